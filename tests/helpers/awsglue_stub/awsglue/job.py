"""Job: a Glue job's bookmark handle (stand-in: records init and commit)."""


class Job:
    def __init__(self, glue_context):
        self.glue_context = glue_context
        self.name = None
        self.committed = False

    def init(self, name, args):
        self.name = name

    def commit(self):
        self.committed = True
