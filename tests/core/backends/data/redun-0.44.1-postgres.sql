--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: tagentitytype; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.tagentitytype AS ENUM (
    'Execution',
    'Job',
    'CallNode',
    'Task',
    'Value',
    'Null'
);


--
-- Name: check_job_utc(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.check_job_utc() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
            BEGIN
                IF current_setting('redun.version', true) IS NULL THEN
                    -- For older redun clients, convert time from local timezone to UTC.
                    set local timezone = 'UTC';
                    NEW.start_time := NEW.start_time AT TIME ZONE 'UTC';
                    NEW.end_time := NEW.end_time AT TIME ZONE 'UTC';
                END IF;

                RETURN NEW;
            END;
            $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: argument; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.argument (
    arg_hash character varying(40) NOT NULL,
    call_hash character varying(40) NOT NULL,
    value_hash character varying(40) NOT NULL,
    arg_position integer,
    arg_key character varying(100)
);


--
-- Name: argument_result; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.argument_result (
    arg_hash character varying(40) NOT NULL,
    result_call_hash character varying(40) NOT NULL
);


--
-- Name: call_edge; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_edge (
    parent_id character varying(40) NOT NULL,
    child_id character varying(40) NOT NULL,
    call_order integer NOT NULL
);


--
-- Name: call_node; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_node (
    call_hash character varying(40) NOT NULL,
    task_name character varying(1024) NOT NULL,
    task_hash character varying(40) NOT NULL,
    args_hash character varying(40) NOT NULL,
    value_hash character varying(40) NOT NULL,
    "timestamp" timestamp with time zone NOT NULL
);


--
-- Name: call_subtree_task; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_subtree_task (
    call_hash character varying(40) NOT NULL,
    task_hash character varying(40) NOT NULL
);


--
-- Name: evaluation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.evaluation (
    eval_hash character varying(40) NOT NULL,
    task_hash character varying(40) NOT NULL,
    args_hash character varying(40) NOT NULL,
    value_hash character varying(40) NOT NULL
);


--
-- Name: execution; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.execution (
    id character varying NOT NULL,
    args character varying NOT NULL,
    job_id character varying NOT NULL,
    updated_time timestamp with time zone
);


--
-- Name: file; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.file (
    value_hash character varying(40) NOT NULL,
    path character varying(1024) NOT NULL
);


--
-- Name: handle; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.handle (
    hash character varying(40) NOT NULL,
    fullname character varying(1024) NOT NULL,
    value_hash character varying(40) NOT NULL,
    key character varying(1024) NOT NULL,
    is_valid boolean NOT NULL
);


--
-- Name: handle_edge; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.handle_edge (
    parent_id character varying(40) NOT NULL,
    child_id character varying(40) NOT NULL
);


--
-- Name: job; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job (
    id character varying NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone,
    task_hash character varying(40) NOT NULL,
    cached boolean NOT NULL,
    call_hash character varying(40),
    parent_id character varying,
    execution_id character varying NOT NULL
);


--
-- Name: redun_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.redun_version (
    id character varying NOT NULL,
    version integer NOT NULL,
    "timestamp" timestamp with time zone NOT NULL
);


--
-- Name: subvalue; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.subvalue (
    value_hash character varying(40) NOT NULL,
    parent_value_hash character varying(40) NOT NULL
);


--
-- Name: tag; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tag (
    tag_hash character varying(40) NOT NULL,
    entity_type public.tagentitytype NOT NULL,
    entity_id character varying NOT NULL,
    key character varying NOT NULL,
    value jsonb NOT NULL,
    is_current boolean NOT NULL
);


--
-- Name: tag_edit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tag_edit (
    parent_id character varying NOT NULL,
    child_id character varying NOT NULL
);


--
-- Name: task; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.task (
    hash character varying(40) NOT NULL,
    name character varying NOT NULL,
    namespace character varying NOT NULL,
    source character varying NOT NULL
);


--
-- Name: value; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.value (
    value_hash character varying(40) NOT NULL,
    type character varying NOT NULL,
    format character varying(100) NOT NULL,
    value bytea NOT NULL
);


--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alembic_version VALUES ('0bee3d6dba76');


--
-- Data for Name: argument; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.argument VALUES ('117246be8b1bcbfcc1a99eca968d72bc6b33c358', '577dea510538edb7f4a67a2903d957fe6e9d5d41', '8106e76113e476483805f6a4185aab9daf283419', 0, NULL);
INSERT INTO public.argument VALUES ('517a2f4c1c65b50a8d51515e034108db019c2e3c', '577dea510538edb7f4a67a2903d957fe6e9d5d41', '279a8e0bc0a09216ec58a8d6c9f4563e21067661', 1, NULL);
INSERT INTO public.argument VALUES ('abe5a9059f9f676fbd9c973a4860c3950bebe124', 'd2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', 'a8396c89067d71e5ec296e67c248cbf07f5669f0', 0, NULL);
INSERT INTO public.argument VALUES ('eeddb878e2c64d7fa65c6618daba271692dbb4ee', 'd2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', '279a8e0bc0a09216ec58a8d6c9f4563e21067661', 1, NULL);
INSERT INTO public.argument VALUES ('9359f2bcd82c49a3fa2d1f85071567985fb52abd', 'e6b68de33a03175e8b874585f47a245f71c1c11f', '7ba3ffb16a63741e1f08a36e491d161726390f76', 0, NULL);
INSERT INTO public.argument VALUES ('6c3e2b56037e6bef8aec91894a16188f868ca12d', 'e6b68de33a03175e8b874585f47a245f71c1c11f', '279a8e0bc0a09216ec58a8d6c9f4563e21067661', 1, NULL);
INSERT INTO public.argument VALUES ('58155dcdbddac0a4b6022bcf536adda447b8ff1c', '687f2495dd8e8c26771228e41569cbe85949c857', '30e22f038650ed9943ce47a8f5b9a403c713c19a', 0, NULL);
INSERT INTO public.argument VALUES ('ed36f943681fc5819e5d9031fe3b7b7fc2d08c13', '687f2495dd8e8c26771228e41569cbe85949c857', '9186dc8464e0b6c116435b9007329f2a1c925705', 1, NULL);
INSERT INTO public.argument VALUES ('d8ae181836dcd7b9a4b6d022458ccdd77859ab65', '1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', 'b0f83101661b71d446962532db1d2471bc6205d6', NULL, 'n');
INSERT INTO public.argument VALUES ('c246a0b08eab9e076a4b741200a9e3c442baff22', '0030c5780e2e4df67d9c4b9a220225e3ba05c876', 'a8396c89067d71e5ec296e67c248cbf07f5669f0', NULL, 'x');


--
-- Data for Name: argument_result; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: call_edge; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.call_edge VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', '577dea510538edb7f4a67a2903d957fe6e9d5d41', 0);
INSERT INTO public.call_edge VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', 'd2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', 1);
INSERT INTO public.call_edge VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', 'e6b68de33a03175e8b874585f47a245f71c1c11f', 2);
INSERT INTO public.call_edge VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', '687f2495dd8e8c26771228e41569cbe85949c857', 3);


--
-- Data for Name: call_node; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.call_node VALUES ('577dea510538edb7f4a67a2903d957fe6e9d5d41', 'legacy.add', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', 'dabf67e75b2c4d04974156b47b5e952b783a9dcf', '279a8e0bc0a09216ec58a8d6c9f4563e21067661', '2026-11-24 22:59:05.293749+00');
INSERT INTO public.call_node VALUES ('d2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', 'legacy.add', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', '24b19cd08e735ca1eb13719ee203080cbefb995b', 'bfe03b799bc0b339c273423cbebd762a1c3deeec', '2026-11-24 22:59:05.303508+00');
INSERT INTO public.call_node VALUES ('e6b68de33a03175e8b874585f47a245f71c1c11f', 'legacy.add', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', '0b7f5371b4159cae82adf3e7357cf88111c52d57', 'eb88d6a07b414fca9f5c744e59c568e4b0befae2', '2026-11-24 22:59:05.310733+00');
INSERT INTO public.call_node VALUES ('687f2495dd8e8c26771228e41569cbe85949c857', 'legacy.write', '18ffe2a5952d42342537801616eab4f58ed1e4b1', '05043d14f8c9fb906cea5410b161bab4ae65bcb5', '9c89bd2e93c466f8a52b5793c4e66bc1284a52c1', '2026-11-24 22:59:05.317408+00');
INSERT INTO public.call_node VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', 'legacy.main', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', '65b839195bff9ed28b25176439117fa8ab4190d5', '6f882503fa00e561895a96e13352d4c366ea7a97', '2026-11-24 22:59:05.330035+00');
INSERT INTO public.call_node VALUES ('0030c5780e2e4df67d9c4b9a220225e3ba05c876', 'legacy.boom', 'c7ad30e39f76d3e85079dd00b3cc68d3179bebfc', 'ab995c0c90f3785565060f0423d4ba88ff30ecce', 'a7545b7b8399f36a7d2eb719d0173dc418dde120', '2026-11-24 22:59:09.13788+00');


--
-- Data for Name: call_subtree_task; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.call_subtree_task VALUES ('577dea510538edb7f4a67a2903d957fe6e9d5d41', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381');
INSERT INTO public.call_subtree_task VALUES ('d2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381');
INSERT INTO public.call_subtree_task VALUES ('e6b68de33a03175e8b874585f47a245f71c1c11f', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381');
INSERT INTO public.call_subtree_task VALUES ('687f2495dd8e8c26771228e41569cbe85949c857', '18ffe2a5952d42342537801616eab4f58ed1e4b1');
INSERT INTO public.call_subtree_task VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b');
INSERT INTO public.call_subtree_task VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', '18ffe2a5952d42342537801616eab4f58ed1e4b1');
INSERT INTO public.call_subtree_task VALUES ('1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381');
INSERT INTO public.call_subtree_task VALUES ('0030c5780e2e4df67d9c4b9a220225e3ba05c876', 'c7ad30e39f76d3e85079dd00b3cc68d3179bebfc');


--
-- Data for Name: evaluation; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.evaluation VALUES ('f4eedc9ab89ad6cd55aec007cdabc1949ecb1124', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', '65b839195bff9ed28b25176439117fa8ab4190d5', '73573878f5db26541eabe2643a0a489cf40f0d3d');
INSERT INTO public.evaluation VALUES ('c6910f20f822a9c28308fea93dabb4f2d1906c45', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', 'dabf67e75b2c4d04974156b47b5e952b783a9dcf', '279a8e0bc0a09216ec58a8d6c9f4563e21067661');
INSERT INTO public.evaluation VALUES ('68ca05329b32516697777cb07fd46faf0f7674c5', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', '24b19cd08e735ca1eb13719ee203080cbefb995b', 'bfe03b799bc0b339c273423cbebd762a1c3deeec');
INSERT INTO public.evaluation VALUES ('ff767e017f2da463bc114839a9ff003c9de8b14b', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', '0b7f5371b4159cae82adf3e7357cf88111c52d57', 'eb88d6a07b414fca9f5c744e59c568e4b0befae2');
INSERT INTO public.evaluation VALUES ('4dc76658be09471c5a28a8b2d6b4b693b18b07c8', '18ffe2a5952d42342537801616eab4f58ed1e4b1', '05043d14f8c9fb906cea5410b161bab4ae65bcb5', '9c89bd2e93c466f8a52b5793c4e66bc1284a52c1');


--
-- Data for Name: execution; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.execution VALUES ('d958632a-3959-42fe-81c2-875526c121c8', '["/tmp/redun044/bin/redun", "run", "wf.py", "main", "--n", "3"]', '43ed4594-97e2-4518-a49f-58659f9f2deb', '2026-11-24 22:59:05.239118+00');
INSERT INTO public.execution VALUES ('5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', '["/tmp/redun044/bin/redun", "run", "wf.py", "main", "--n", "3"]', '66326477-5cc3-4802-8702-21fd79b94905', '2026-11-24 22:59:06.530399+00');
INSERT INTO public.execution VALUES ('bbe7f1bb-8254-46e6-9e0f-503e4be1e14a', '["/tmp/redun044/bin/redun", "run", "fail.py", "boom", "--x", "1"]', '9f853a46-1c7f-4be7-8a26-5c6d217ace81', '2026-11-24 22:59:09.118912+00');


--
-- Data for Name: file; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.file VALUES ('9c89bd2e93c466f8a52b5793c4e66bc1284a52c1', 'out.txt');


--
-- Data for Name: handle; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: handle_edge; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: job; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.job VALUES ('1020e359-fd34-4bf6-a5ed-b73af57e6847', '2026-11-24 22:59:05.266996+00', '2026-11-24 22:59:05.299874+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', false, '577dea510538edb7f4a67a2903d957fe6e9d5d41', '43ed4594-97e2-4518-a49f-58659f9f2deb', 'd958632a-3959-42fe-81c2-875526c121c8');
INSERT INTO public.job VALUES ('d20aecf2-5b14-43d2-b030-54ceccf38425', '2026-11-24 22:59:05.270369+00', '2026-11-24 22:59:05.308074+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', false, 'd2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', '43ed4594-97e2-4518-a49f-58659f9f2deb', 'd958632a-3959-42fe-81c2-875526c121c8');
INSERT INTO public.job VALUES ('621d5c20-f147-47a7-9488-38a6fefdf932', '2026-11-24 22:59:05.274026+00', '2026-11-24 22:59:05.314792+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', false, 'e6b68de33a03175e8b874585f47a245f71c1c11f', '43ed4594-97e2-4518-a49f-58659f9f2deb', 'd958632a-3959-42fe-81c2-875526c121c8');
INSERT INTO public.job VALUES ('2e0338ed-8c97-493d-ba79-4542721a5458', '2026-11-24 22:59:05.278682+00', '2026-11-24 22:59:05.323334+00', '18ffe2a5952d42342537801616eab4f58ed1e4b1', false, '687f2495dd8e8c26771228e41569cbe85949c857', '43ed4594-97e2-4518-a49f-58659f9f2deb', 'd958632a-3959-42fe-81c2-875526c121c8');
INSERT INTO public.job VALUES ('43ed4594-97e2-4518-a49f-58659f9f2deb', '2026-11-24 22:59:05.24857+00', '2026-11-24 22:59:05.343711+00', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', false, '1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', NULL, 'd958632a-3959-42fe-81c2-875526c121c8');
INSERT INTO public.job VALUES ('e231eff8-1d23-4b26-b22b-1a8809fce156', '2026-11-24 22:59:06.542934+00', '2026-11-24 22:59:06.554714+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', true, '577dea510538edb7f4a67a2903d957fe6e9d5d41', '66326477-5cc3-4802-8702-21fd79b94905', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c');
INSERT INTO public.job VALUES ('f51705f0-ddd2-42cb-b910-b20a865e6d12', '2026-11-24 22:59:06.547177+00', '2026-11-24 22:59:06.557986+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', true, 'd2c1382cb7ff7bfacbfe07f723f11d7a5ee27077', '66326477-5cc3-4802-8702-21fd79b94905', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c');
INSERT INTO public.job VALUES ('5189120a-10ad-4dfe-beae-892c76b52128', '2026-11-24 22:59:06.549936+00', '2026-11-24 22:59:06.559977+00', '8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', true, 'e6b68de33a03175e8b874585f47a245f71c1c11f', '66326477-5cc3-4802-8702-21fd79b94905', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c');
INSERT INTO public.job VALUES ('06f27ffe-a654-43bb-a24e-807a29f5500f', '2026-11-24 22:59:06.552512+00', '2026-11-24 22:59:06.561929+00', '18ffe2a5952d42342537801616eab4f58ed1e4b1', true, '687f2495dd8e8c26771228e41569cbe85949c857', '66326477-5cc3-4802-8702-21fd79b94905', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c');
INSERT INTO public.job VALUES ('66326477-5cc3-4802-8702-21fd79b94905', '2026-11-24 22:59:06.536089+00', '2026-11-24 22:59:06.569726+00', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', true, '1ecb73cdb9dbfb2d3abfd9032cce64ff1fa1e711', NULL, '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c');
INSERT INTO public.job VALUES ('9f853a46-1c7f-4be7-8a26-5c6d217ace81', '2026-11-24 22:59:09.128563+00', '2026-11-24 22:59:09.141516+00', 'c7ad30e39f76d3e85079dd00b3cc68d3179bebfc', false, '0030c5780e2e4df67d9c4b9a220225e3ba05c876', NULL, 'bbe7f1bb-8254-46e6-9e0f-503e4be1e14a');


--
-- Data for Name: redun_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.redun_version VALUES ('f4dcce00-9529-4dda-9747-d28db631dc72', 3, '2026-11-24 22:59:03.977539+00');


--
-- Data for Name: subvalue; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.subvalue VALUES ('9d5264d3c750641979b0f7c8d0ae91f6ebe296a4', '73573878f5db26541eabe2643a0a489cf40f0d3d');
INSERT INTO public.subvalue VALUES ('39498ad6c7f54c5f24ca29ca427093cb0e4e96a3', '73573878f5db26541eabe2643a0a489cf40f0d3d');
INSERT INTO public.subvalue VALUES ('1d67766f90e9d799614e483124021fb81e1084a1', '73573878f5db26541eabe2643a0a489cf40f0d3d');
INSERT INTO public.subvalue VALUES ('7ac4d3bc13a2d869280ff6404e77b57b0947820c', '73573878f5db26541eabe2643a0a489cf40f0d3d');
INSERT INTO public.subvalue VALUES ('9c89bd2e93c466f8a52b5793c4e66bc1284a52c1', '6f882503fa00e561895a96e13352d4c366ea7a97');


--
-- Data for Name: tag; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tag VALUES ('d2f19bcdb83ab5434dd9a8cd0d71b0dddb42b9d9', 'Execution', 'd958632a-3959-42fe-81c2-875526c121c8', 'user', '"root"', true);
INSERT INTO public.tag VALUES ('23716b3f4dd032d77a7cc462be4ee1e577ea9c77', 'Execution', 'd958632a-3959-42fe-81c2-875526c121c8', 'redun.version', '"0.44.1"', true);
INSERT INTO public.tag VALUES ('361a5ef331eb9b3cd2c8ecb8ccfcbe3801cde147', 'Execution', 'd958632a-3959-42fe-81c2-875526c121c8', 'project', '"legacy"', true);
INSERT INTO public.tag VALUES ('a23984a13746fee3b33d1798a7a0a251a8eb246b', 'Job', '43ed4594-97e2-4518-a49f-58659f9f2deb', 'stage', '"test"', true);
INSERT INTO public.tag VALUES ('5aae60966a722cd73797e04c2fdab9fc7fa3265e', 'Task', '3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', 'stage', '"test"', true);
INSERT INTO public.tag VALUES ('eef5438102fd67f5ff2b7c88cc03fdfbb3f26a5d', 'Execution', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', 'project', '"legacy"', true);
INSERT INTO public.tag VALUES ('07c159b8086fa7e27e513ff63aa191bb92d8fa17', 'Execution', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', 'user', '"root"', true);
INSERT INTO public.tag VALUES ('868ae032eb229045f11a33290d55e04e636a4b3e', 'Execution', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', 'redun.version', '"0.44.1"', true);
INSERT INTO public.tag VALUES ('f88c33314cb927cfe084491c8e9f00cd70e0db43', 'Job', '66326477-5cc3-4802-8702-21fd79b94905', 'stage', '"test"', true);
INSERT INTO public.tag VALUES ('2e149772d6e8804ec83864872884c34c5d82b9c5', 'Execution', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', 'owner', '"alice"', false);
INSERT INTO public.tag VALUES ('dd261a33c76ed5e0b4a56e5013e6eea31c257e73', 'Execution', '5ebdfba2-61fe-4946-8fb9-3fc47d19ec1c', 'owner', '"bob"', true);
INSERT INTO public.tag VALUES ('c339689083ae467fcbc92426d8f33d42e155144b', 'Execution', 'bbe7f1bb-8254-46e6-9e0f-503e4be1e14a', 'redun.version', '"0.44.1"', true);
INSERT INTO public.tag VALUES ('9083f33e329ee81ae96cda895f76577158e0d792', 'Execution', 'bbe7f1bb-8254-46e6-9e0f-503e4be1e14a', 'user', '"root"', true);
INSERT INTO public.tag VALUES ('deaa95c168d32ad4146ddc5d8066ad67dace59f5', 'Execution', 'bbe7f1bb-8254-46e6-9e0f-503e4be1e14a', 'project', '"legacy"', true);


--
-- Data for Name: tag_edit; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tag_edit VALUES ('2e149772d6e8804ec83864872884c34c5d82b9c5', 'dd261a33c76ed5e0b4a56e5013e6eea31c257e73');


--
-- Data for Name: task; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.task VALUES ('3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', 'main', 'legacy', 'def main(n: int = 3) -> list:
    return [add(i, 10) for i in range(n)] + [write("out.txt", "hello")]
');
INSERT INTO public.task VALUES ('8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', 'add', 'legacy', 'def add(a: int, b: int) -> int:
    return a + b
');
INSERT INTO public.task VALUES ('18ffe2a5952d42342537801616eab4f58ed1e4b1', 'write', 'legacy', 'def write(path: str, text: str) -> File:
    f = File(path)
    f.write(text)
    return f
');
INSERT INTO public.task VALUES ('c7ad30e39f76d3e85079dd00b3cc68d3179bebfc', 'boom', 'legacy', 'def boom(x: int) -> int:
    raise ValueError(f"boom {x}")
');


--
-- Data for Name: value; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.value VALUES ('3d453c72c2d65e3bd7691af7f7c4df30bdabfd2b', 'redun.Task', 'application/python-pickle', '\x800363726564756e2e7461736b0a5461736b0a7100298171017d71022858040000006e616d65710358040000006d61696e710458090000006e616d657370616365710558060000006c65676163797106580700000076657273696f6e71074e580400000068617368710858280000003364343533633732633264363565336264373639316166376637633464663330626461626664326271095806000000636f6d706174710a5d710b5806000000736372697074710c89580c0000007461736b5f6f7074696f6e73710d7d710e580e0000006578706f72745f6f7074696f6e73710f636275696c74696e730a7365740a71105d711185711252711375622e');
INSERT INTO public.value VALUES ('73573878f5db26541eabe2643a0a489cf40f0d3d', 'builtins.list', 'application/python-pickle', '\x80035d71002863726564756e2e65787072657373696f6e0a5461736b45787072657373696f6e0a7101298171027d71032858090000007461736b5f6e616d657104580a0000006c65676163792e61646471055804000000617267737106430a80034b004b0a8671002e710758060000006b77617267737108430680037d71002e7109580c0000007461736b5f6f7074696f6e73710a7d710b580e0000006578706f72745f6f7074696f6e73710c636275696c74696e730a7365740a710d5d710e85710f52711058060000006c656e67746871114e75626801298171127d7113286804580a0000006c65676163792e61646471146806430a80034b014b0a8671002e71156808430680037d71002e7116680a7d7117680c680d5d711885711952711a68114e756268012981711b7d711c286804580a0000006c65676163792e616464711d6806430a80034b024b0a8671002e711e6808430680037d71002e711f680a7d7120680c680d5d712185712252712368114e75626801298171247d7125286804580c0000006c65676163792e7772697465712668064320800358070000006f75742e7478747100580500000068656c6c6f71018671022e71276808430680037d71002e7128680a7d7129680c680d5d712a85712b52712c68114e7562652e');
INSERT INTO public.value VALUES ('9d5264d3c750641979b0f7c8d0ae91f6ebe296a4', 'redun.expression.TaskExpression', 'application/python-pickle', '\x800363726564756e2e65787072657373696f6e0a5461736b45787072657373696f6e0a7100298171017d71022858090000007461736b5f6e616d657103580c0000006c65676163792e7772697465710458040000006172677371054320800358070000006f75742e7478747100580500000068656c6c6f71018671022e710658060000006b77617267737107430680037d71002e7108580c0000007461736b5f6f7074696f6e7371097d710a580e0000006578706f72745f6f7074696f6e73710b636275696c74696e730a7365740a710c5d710d85710e52710f58060000006c656e67746871104e75622e');
INSERT INTO public.value VALUES ('39498ad6c7f54c5f24ca29ca427093cb0e4e96a3', 'redun.expression.TaskExpression', 'application/python-pickle', '\x800363726564756e2e65787072657373696f6e0a5461736b45787072657373696f6e0a7100298171017d71022858090000007461736b5f6e616d657103580a0000006c65676163792e61646471045804000000617267737105430a80034b024b0a8671002e710658060000006b77617267737107430680037d71002e7108580c0000007461736b5f6f7074696f6e7371097d710a580e0000006578706f72745f6f7074696f6e73710b636275696c74696e730a7365740a710c5d710d85710e52710f58060000006c656e67746871104e75622e');
INSERT INTO public.value VALUES ('1d67766f90e9d799614e483124021fb81e1084a1', 'redun.expression.TaskExpression', 'application/python-pickle', '\x800363726564756e2e65787072657373696f6e0a5461736b45787072657373696f6e0a7100298171017d71022858090000007461736b5f6e616d657103580a0000006c65676163792e61646471045804000000617267737105430a80034b014b0a8671002e710658060000006b77617267737107430680037d71002e7108580c0000007461736b5f6f7074696f6e7371097d710a580e0000006578706f72745f6f7074696f6e73710b636275696c74696e730a7365740a710c5d710d85710e52710f58060000006c656e67746871104e75622e');
INSERT INTO public.value VALUES ('7ac4d3bc13a2d869280ff6404e77b57b0947820c', 'redun.expression.TaskExpression', 'application/python-pickle', '\x800363726564756e2e65787072657373696f6e0a5461736b45787072657373696f6e0a7100298171017d71022858090000007461736b5f6e616d657103580a0000006c65676163792e61646471045804000000617267737105430a80034b004b0a8671002e710658060000006b77617267737107430680037d71002e7108580c0000007461736b5f6f7074696f6e7371097d710a580e0000006578706f72745f6f7074696f6e73710b636275696c74696e730a7365740a710c5d710d85710e52710f58060000006c656e67746871104e75622e');
INSERT INTO public.value VALUES ('8a8dd4b6b95c157018ba0b4a7fffa9580fdb7381', 'redun.Task', 'application/python-pickle', '\x800363726564756e2e7461736b0a5461736b0a7100298171017d71022858040000006e616d6571035803000000616464710458090000006e616d657370616365710558060000006c65676163797106580700000076657273696f6e71074e580400000068617368710858280000003861386464346236623935633135373031386261306234613766666661393538306664623733383171095806000000636f6d706174710a5d710b5806000000736372697074710c89580c0000007461736b5f6f7074696f6e73710d7d710e580e0000006578706f72745f6f7074696f6e73710f636275696c74696e730a7365740a71105d711185711252711375622e');
INSERT INTO public.value VALUES ('18ffe2a5952d42342537801616eab4f58ed1e4b1', 'redun.Task', 'application/python-pickle', '\x800363726564756e2e7461736b0a5461736b0a7100298171017d71022858040000006e616d65710358050000007772697465710458090000006e616d657370616365710558060000006c65676163797106580700000076657273696f6e71074e580400000068617368710858280000003138666665326135393532643432333432353337383031363136656162346635386564316534623171095806000000636f6d706174710a5d710b5806000000736372697074710c89580c0000007461736b5f6f7074696f6e73710d7d710e580e0000006578706f72745f6f7074696f6e73710f636275696c74696e730a7365740a71105d711185711252711375622e');
INSERT INTO public.value VALUES ('279a8e0bc0a09216ec58a8d6c9f4563e21067661', 'builtins.int', 'application/python-pickle', '\x80034b0a2e');
INSERT INTO public.value VALUES ('bfe03b799bc0b339c273423cbebd762a1c3deeec', 'builtins.int', 'application/python-pickle', '\x80034b0b2e');
INSERT INTO public.value VALUES ('eb88d6a07b414fca9f5c744e59c568e4b0befae2', 'builtins.int', 'application/python-pickle', '\x80034b0c2e');
INSERT INTO public.value VALUES ('9c89bd2e93c466f8a52b5793c4e66bc1284a52c1', 'redun.File', 'application/python-pickle', '\x800363726564756e2e66696c650a46696c650a7100298171017d710228580400000070617468710358070000006f75742e74787471045804000000686173687105582800000039633839626432653933633436366638613532623537393363346536366263313238346135326331710675622e');
INSERT INTO public.value VALUES ('8106e76113e476483805f6a4185aab9daf283419', 'builtins.int', 'application/python-pickle', '\x80034b002e');
INSERT INTO public.value VALUES ('a8396c89067d71e5ec296e67c248cbf07f5669f0', 'builtins.int', 'application/python-pickle', '\x80034b012e');
INSERT INTO public.value VALUES ('7ba3ffb16a63741e1f08a36e491d161726390f76', 'builtins.int', 'application/python-pickle', '\x80034b022e');
INSERT INTO public.value VALUES ('30e22f038650ed9943ce47a8f5b9a403c713c19a', 'builtins.str', 'application/python-pickle', '\x800358070000006f75742e74787471002e');
INSERT INTO public.value VALUES ('9186dc8464e0b6c116435b9007329f2a1c925705', 'builtins.str', 'application/python-pickle', '\x8003580500000068656c6c6f71002e');
INSERT INTO public.value VALUES ('6f882503fa00e561895a96e13352d4c366ea7a97', 'builtins.list', 'application/python-pickle', '\x80035d7100284b0a4b0b4b0c63726564756e2e66696c650a46696c650a7101298171027d710328580400000070617468710458070000006f75742e7478747105580400000068617368710658280000003963383962643265393363343636663861353262353739336334653636626331323834613532633171077562652e');
INSERT INTO public.value VALUES ('b0f83101661b71d446962532db1d2471bc6205d6', 'builtins.int', 'application/python-pickle', '\x80034b032e');
INSERT INTO public.value VALUES ('c7ad30e39f76d3e85079dd00b3cc68d3179bebfc', 'redun.Task', 'application/python-pickle', '\x800363726564756e2e7461736b0a5461736b0a7100298171017d71022858040000006e616d6571035804000000626f6f6d710458090000006e616d657370616365710558060000006c65676163797106580700000076657273696f6e71074e580400000068617368710858280000006337616433306533396637366433653835303739646430306233636336386433313739626562666371095806000000636f6d706174710a5d710b5806000000736372697074710c89580c0000007461736b5f6f7074696f6e73710d7d710e580e0000006578706f72745f6f7074696f6e73710f636275696c74696e730a7365740a71105d711185711252711375622e');
INSERT INTO public.value VALUES ('a7545b7b8399f36a7d2eb719d0173dc418dde120', 'redun.ErrorValue', 'application/python-pickle', '\x800363726564756e2e7363686564756c65720a4572726f7256616c75650a7100298171017d71022858050000006572726f727103636275696c74696e730a56616c75654572726f720a71045806000000626f6f6d203171058571065271077d7108580f000000726564756e5f74726163656261636b71094e7362580900000074726163656261636b710a63726564756e2e7363686564756c65720a54726163656261636b0a710b2981710c7d710d286803680758060000006672616d6573710e5d710f6374726163656261636b0a4672616d6553756d6d6172790a7110298171114e7d711228580800000066696c656e616d65711358120000002f746d702f70673034342f6661696c2e7079711458060000006c696e656e6f71154b07580a000000656e645f6c696e656e6f71164b075805000000636f6c6e6f71174b045809000000656e645f636f6c6e6f71184b2158040000006e616d6571195804000000626f6f6d711a58050000005f6c696e65711b58220000002020202072616973652056616c75654572726f72286622626f6f6d207b787d22290a711c58060000006c6f63616c73711d4e7586711e626158040000006c6f6773711f5d7120756275622e');


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: argument argument_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument
    ADD CONSTRAINT argument_pkey PRIMARY KEY (arg_hash);


--
-- Name: argument_result argument_result_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument_result
    ADD CONSTRAINT argument_result_pkey PRIMARY KEY (arg_hash, result_call_hash);


--
-- Name: call_edge call_edge_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_edge
    ADD CONSTRAINT call_edge_pkey PRIMARY KEY (parent_id, child_id, call_order);


--
-- Name: call_node call_node_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_node
    ADD CONSTRAINT call_node_pkey PRIMARY KEY (call_hash);


--
-- Name: call_subtree_task call_subtree_task_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_subtree_task
    ADD CONSTRAINT call_subtree_task_pkey PRIMARY KEY (call_hash, task_hash);


--
-- Name: evaluation evaluation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.evaluation
    ADD CONSTRAINT evaluation_pkey PRIMARY KEY (eval_hash);


--
-- Name: execution execution_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.execution
    ADD CONSTRAINT execution_pkey PRIMARY KEY (id);


--
-- Name: file file_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.file
    ADD CONSTRAINT file_pkey PRIMARY KEY (value_hash);


--
-- Name: handle_edge handle_edge_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.handle_edge
    ADD CONSTRAINT handle_edge_pkey PRIMARY KEY (parent_id, child_id);


--
-- Name: handle handle_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.handle
    ADD CONSTRAINT handle_pkey PRIMARY KEY (hash);


--
-- Name: job job_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_pkey PRIMARY KEY (id);


--
-- Name: redun_version redun_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.redun_version
    ADD CONSTRAINT redun_version_pkey PRIMARY KEY (id);


--
-- Name: subvalue subvalue_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subvalue
    ADD CONSTRAINT subvalue_pkey PRIMARY KEY (value_hash, parent_value_hash);


--
-- Name: tag_edit tag_edit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_edit
    ADD CONSTRAINT tag_edit_pkey PRIMARY KEY (parent_id, child_id);


--
-- Name: tag tag_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag
    ADD CONSTRAINT tag_pkey PRIMARY KEY (tag_hash);


--
-- Name: task task_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_pkey PRIMARY KEY (hash);


--
-- Name: value value_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.value
    ADD CONSTRAINT value_pkey PRIMARY KEY (value_hash);


--
-- Name: ix_argument_call_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_argument_call_hash ON public.argument USING btree (call_hash);


--
-- Name: ix_argument_result_arg_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_argument_result_arg_hash ON public.argument_result USING btree (arg_hash);


--
-- Name: ix_argument_result_result_call_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_argument_result_result_call_hash ON public.argument_result USING btree (result_call_hash);


--
-- Name: ix_argument_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_argument_value_hash ON public.argument USING btree (value_hash);


--
-- Name: ix_call_edge_child_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_edge_child_id ON public.call_edge USING btree (child_id);


--
-- Name: ix_call_edge_parent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_edge_parent_id ON public.call_edge USING btree (parent_id);


--
-- Name: ix_call_node_call_hash_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_call_node_call_hash_vpo ON public.call_node USING btree (call_hash varchar_pattern_ops);


--
-- Name: ix_call_node_task_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_node_task_hash ON public.call_node USING btree (task_hash);


--
-- Name: ix_call_node_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_node_value_hash ON public.call_node USING btree (value_hash);


--
-- Name: ix_call_subtree_task_call_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_subtree_task_call_hash ON public.call_subtree_task USING btree (call_hash);


--
-- Name: ix_call_subtree_task_task_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_subtree_task_task_hash ON public.call_subtree_task USING btree (task_hash);


--
-- Name: ix_evaluation_task_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_evaluation_task_hash ON public.evaluation USING btree (task_hash);


--
-- Name: ix_evaluation_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_evaluation_value_hash ON public.evaluation USING btree (value_hash);


--
-- Name: ix_execution_id_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_execution_id_vpo ON public.execution USING btree (id varchar_pattern_ops);


--
-- Name: ix_execution_job_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_execution_job_id ON public.execution USING btree (job_id);


--
-- Name: ix_file_path; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_file_path ON public.file USING btree (path);


--
-- Name: ix_handle_edge_child_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_handle_edge_child_id ON public.handle_edge USING btree (child_id);


--
-- Name: ix_handle_edge_parent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_handle_edge_parent_id ON public.handle_edge USING btree (parent_id);


--
-- Name: ix_handle_fullname; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_handle_fullname ON public.handle USING btree (fullname);


--
-- Name: ix_handle_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_handle_value_hash ON public.handle USING btree (value_hash);


--
-- Name: ix_job_call_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_call_hash ON public.job USING btree (call_hash);


--
-- Name: ix_job_end_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_end_time ON public.job USING btree (end_time);


--
-- Name: ix_job_execution_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_execution_id ON public.job USING btree (execution_id);


--
-- Name: ix_job_id_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_job_id_vpo ON public.job USING btree (id varchar_pattern_ops);


--
-- Name: ix_job_parent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_parent_id ON public.job USING btree (parent_id);


--
-- Name: ix_job_start_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_start_time ON public.job USING btree (start_time);


--
-- Name: ix_job_task_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_task_hash ON public.job USING btree (task_hash);


--
-- Name: ix_subvalue_parent_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_subvalue_parent_value_hash ON public.subvalue USING btree (parent_value_hash);


--
-- Name: ix_subvalue_value_hash; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_subvalue_value_hash ON public.subvalue USING btree (value_hash);


--
-- Name: ix_tag_entity_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tag_entity_id ON public.tag USING btree (entity_id);


--
-- Name: ix_tag_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tag_key ON public.tag USING btree (key);


--
-- Name: ix_tag_tag_hash_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_tag_tag_hash_current ON public.tag USING btree (tag_hash) WHERE is_current;


--
-- Name: ix_tag_value; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tag_value ON public.tag USING btree (value);


--
-- Name: ix_task_hash_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_task_hash_vpo ON public.task USING btree (hash varchar_pattern_ops);


--
-- Name: ix_task_name_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_task_name_vpo ON public.task USING btree (name varchar_pattern_ops);


--
-- Name: ix_task_namespace_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_task_namespace_vpo ON public.task USING btree (namespace varchar_pattern_ops);


--
-- Name: ix_value_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_value_type ON public.value USING btree (type);


--
-- Name: ix_value_value_hash_vpo; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_value_value_hash_vpo ON public.value USING btree (value_hash varchar_pattern_ops);


--
-- Name: job check_job_utc; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER check_job_utc BEFORE INSERT ON public.job FOR EACH ROW EXECUTE FUNCTION public.check_job_utc();


--
-- Name: argument argument_call_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument
    ADD CONSTRAINT argument_call_hash_fkey FOREIGN KEY (call_hash) REFERENCES public.call_node(call_hash);


--
-- Name: argument_result argument_result_arg_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument_result
    ADD CONSTRAINT argument_result_arg_hash_fkey FOREIGN KEY (arg_hash) REFERENCES public.argument(arg_hash);


--
-- Name: argument_result argument_result_result_call_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument_result
    ADD CONSTRAINT argument_result_result_call_hash_fkey FOREIGN KEY (result_call_hash) REFERENCES public.call_node(call_hash);


--
-- Name: argument argument_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.argument
    ADD CONSTRAINT argument_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: call_edge call_edge_child_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_edge
    ADD CONSTRAINT call_edge_child_id_fkey FOREIGN KEY (child_id) REFERENCES public.call_node(call_hash);


--
-- Name: call_edge call_edge_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_edge
    ADD CONSTRAINT call_edge_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.call_node(call_hash);


--
-- Name: call_node call_node_task_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_node
    ADD CONSTRAINT call_node_task_hash_fkey FOREIGN KEY (task_hash) REFERENCES public.task(hash);


--
-- Name: call_node call_node_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_node
    ADD CONSTRAINT call_node_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: call_subtree_task call_subtree_task_call_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_subtree_task
    ADD CONSTRAINT call_subtree_task_call_hash_fkey FOREIGN KEY (call_hash) REFERENCES public.call_node(call_hash);


--
-- Name: call_subtree_task call_subtree_task_task_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_subtree_task
    ADD CONSTRAINT call_subtree_task_task_hash_fkey FOREIGN KEY (task_hash) REFERENCES public.task(hash);


--
-- Name: job ct_job_execution_id; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT ct_job_execution_id FOREIGN KEY (execution_id) REFERENCES public.execution(id) DEFERRABLE INITIALLY DEFERRED;


--
-- Name: evaluation evaluation_task_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.evaluation
    ADD CONSTRAINT evaluation_task_hash_fkey FOREIGN KEY (task_hash) REFERENCES public.task(hash);


--
-- Name: evaluation evaluation_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.evaluation
    ADD CONSTRAINT evaluation_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: execution execution_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.execution
    ADD CONSTRAINT execution_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.job(id) DEFERRABLE INITIALLY DEFERRED;


--
-- Name: file file_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.file
    ADD CONSTRAINT file_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: handle_edge handle_edge_child_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.handle_edge
    ADD CONSTRAINT handle_edge_child_id_fkey FOREIGN KEY (child_id) REFERENCES public.handle(hash);


--
-- Name: handle_edge handle_edge_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.handle_edge
    ADD CONSTRAINT handle_edge_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.handle(hash);


--
-- Name: handle handle_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.handle
    ADD CONSTRAINT handle_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: job job_call_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_call_hash_fkey FOREIGN KEY (call_hash) REFERENCES public.call_node(call_hash);


--
-- Name: job job_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.job(id);


--
-- Name: job job_task_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_task_hash_fkey FOREIGN KEY (task_hash) REFERENCES public.task(hash);


--
-- Name: subvalue subvalue_parent_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subvalue
    ADD CONSTRAINT subvalue_parent_value_hash_fkey FOREIGN KEY (parent_value_hash) REFERENCES public.value(value_hash);


--
-- Name: subvalue subvalue_value_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subvalue
    ADD CONSTRAINT subvalue_value_hash_fkey FOREIGN KEY (value_hash) REFERENCES public.value(value_hash);


--
-- Name: tag_edit tag_edit_child_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_edit
    ADD CONSTRAINT tag_edit_child_id_fkey FOREIGN KEY (child_id) REFERENCES public.tag(tag_hash);


--
-- Name: tag_edit tag_edit_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_edit
    ADD CONSTRAINT tag_edit_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.tag(tag_hash);


--
-- PostgreSQL database dump complete
--


