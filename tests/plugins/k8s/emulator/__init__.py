"""A strict emulator of the Kubernetes API for the k8s executor's tests.

No kube-apiserver, kubelet, kind or k3s can run on our machines (they need
downloaded binaries or images), so this package serves the part of the API
that the executor and kubeconfig loading use, over real HTTP on 127.0.0.1,
and runs every Job's pods as real podman containers (host networking, the
session's test image), so the data path (code package, scratch, ``redun
oneshot``) is real. Modules:

- `cluster`: the object store (uid, resourceVersion, Job defaults and the
  generated selector and labels, 409 AlreadyExists/Conflict, list paging);
- `validation`: what the API server rejects (DNS-1123 names, label keys and
  values, quantities, containers, env, resources, volumes, node affinity,
  Job fields), as 422 Invalid with causes, or 400 for undecodable quantities;
- `selectors`: label selectors (``=``, ``==``, ``!=``, ``in``, ``notin``,
  exists, ``!key``) and the field selectors each kind supports;
- `controller`: job controller (parallelism, completions, Indexed Jobs with
  ``JOB_COMPLETION_INDEX``, ``backoffLimit``, ``backoffLimitPerIndex``,
  ``activeDeadlineSeconds``, ``ttlSecondsAfterFinished``), a scheduler for
  the one node (requests against allocatable, node affinity), the pod
  lifecycle and the garbage collector (background, foreground and orphan
  deletion);
- `kubelet`: containers through the podman CLI; pod logs are podman logs;
- `api`: the HTTP routes and discovery; `__main__` runs it as a process.

Deviations from a real cluster (what this does not model):

- No authentication or RBAC: every request is user ``system:anonymous``;
  namespaces named through ``/emulator/config`` answer 403 Forbidden instead.
- No watches (``?watch=true`` is 405), no server-side apply, no JSON patch
  (merge patch only, and strategic merge patches are applied as merge
  patches), PUT only for secrets, status subresources read-only, pods cannot
  be created directly (only the job controller makes them).
- One node (``emulator-node``, allocatable cpu 8, memory 32Gi by default, no
  GPUs); no taints, tolerations, preemption, priorities or pod affinity.
  Pods with more than one container stay Pending.
- Volumes: ``hostPath`` and ``emptyDir`` are mounted; other kinds (PVC, NFS,
  CSI, configMap, secret volumes) leave the pod ContainerCreating.
- Images are never pulled: only images already in the local podman store
  run; any other gives ErrImagePull. ``imagePullSecrets`` are not checked.
- Service accounts are not objects: any valid name is accepted.
- Termination is immediate (SIGKILL, no grace period); a deleted Job's
  ``deletionTimestamp`` phase lasts at most one controller tick.
- The pod-replacement backoff starts at 0.2 s (real: 10 s) and the
  CrashLoopBackOff at 0.2 s, both doubling, so retry tests stay short.
- ``ephemeral-storage`` is scheduled against allocatable but not enforced;
  cpu and memory limits are passed to podman (``--cpus``, ``--memory``).
- Every container also gets the loopback-safety variables
  (`kubelet.LOOPBACK_SAFE_ENV`) and ``KUBERNETES_SERVICE_HOST/PORT``
  pointing at the emulator.
- Continue tokens never expire (a real server answers 410 Gone after
  compaction); ``resourceVersion`` on list requests is ignored.
"""
