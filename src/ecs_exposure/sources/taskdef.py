"""Task definition JSON (register or describe shape) → :class:`TaskDefinition`.

Shared by the file source and the snapshot source: both hold the ECS API's own JSON. A field that
is present but unreadable is a scan issue *and* a :class:`FieldProblem` kept on the task definition,
naming the model fields it would have fed (:func:`task_fields`), so that the traits reading them
are unknown for this task definition rather than absent.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import (
    Container,
    Device,
    Environment,
    Loc,
    MountPoint,
    PortMapping,
    SecretRef,
    TaskDefinition,
    Volume,
)
from ..model.inventory import NO_ENVIRONMENT
from ..model.location import Part
from .reader import JSON, Reader, scalar_text

# JSON key → the model fields it feeds (``Class.attribute``, as traits declare in ``reads``). A key
# not listed (``family``, ``name``, ``logConfiguration`` …) feeds no trait: a problem there is only
# a scan issue.
TASK_FIELDS: dict[str, tuple[str, ...]] = {
    "volumes": ("TaskDefinition.volumes",),
    "networkMode": ("TaskDefinition.network_mode",),
    "pidMode": ("TaskDefinition.pid_mode",),
    "ipcMode": ("TaskDefinition.ipc_mode",),
    "taskRoleArn": ("TaskDefinition.task_role_arn",),
    "executionRoleArn": ("TaskDefinition.execution_role_arn",),
    "runtimePlatform": ("TaskDefinition.os_family",),
    "requiresCompatibilities": ("TaskDefinition.requires_compatibilities",),
}
CONTAINER_FIELDS: dict[str, tuple[str, ...]] = {
    "image": ("Container.image",),
    "privileged": ("Container.privileged",),
    "readonlyRootFilesystem": ("Container.readonly_root_filesystem",),
    "user": ("Container.user",),
    "environment": ("Container.environment",),
    "secrets": ("Container.secrets",),
    "command": ("Container.command",),
    "entryPoint": ("Container.entry_point",),
    "dockerLabels": ("Container.docker_labels",),
    "mountPoints": ("Container.mount_points",),
    "portMappings": ("Container.port_mappings",),
}
LINUX_FIELDS: dict[str, tuple[str, ...]] = {
    "capabilities": ("Container.capabilities_add",),
    "devices": ("Container.devices",),
}
_LINUX_ALL = ("Container.capabilities_add", "Container.devices")


def task_fields(rel: tuple[Part, ...]) -> tuple[str, ...]:
    """The model fields fed by the value at ``rel``, a JSON path inside a task definition."""
    if not rel:
        return ()
    key = rel[0]
    if key == "containerDefinitions":
        if len(rel) <= 2:  # the list itself, or an item that is not a container: a container is lost
            return ("TaskDefinition.containers",)
        sub = rel[2]
        if sub == "linuxParameters":
            return _LINUX_ALL if len(rel) == 3 else LINUX_FIELDS.get(rel[3], ())
        return CONTAINER_FIELDS.get(sub, ())
    return TASK_FIELDS.get(key, ())


def is_task_definition(doc: JSON) -> bool:
    return isinstance(doc, dict) and "containerDefinitions" in doc


def unwrap(doc: JSON) -> tuple[JSON, tuple[str, ...]]:
    """Accept ``{"taskDefinition": {...}}`` (describe output) as well as the bare object."""
    if isinstance(doc, dict) and "containerDefinitions" not in doc:
        inner = doc.get("taskDefinition")
        if isinstance(inner, dict) and "containerDefinitions" in inner:
            return inner, ("taskDefinition",)
    return doc, ()


def _family_from_arn(arn: str | None) -> tuple[str | None, int | None]:
    # arn:aws:ecs:region:account:task-definition/family:revision
    if not arn or "task-definition/" not in arn:
        return None, None
    tail = arn.split("task-definition/", 1)[1]
    family, _, rev = tail.partition(":")
    return family or None, int(rev) if rev.isdigit() else None


def parse_tags(items: JSON) -> tuple[tuple[str, str], ...]:
    """ECS ``tags`` → (key, value) pairs: ``[{"key": …, "value": …}]`` as DescribeServices /
    DescribeTaskDefinition (``include=["TAGS"]``) and RegisterTaskDefinition write them, ``Key`` /
    ``Value`` as CloudFormation does, or a ``{key: value}`` mapping as some tools write.

    Tags are metadata, not exposure: an entry that is none of these (or the empty ``{"key": ""}``
    row of the console's template) is skipped without making the scan incomplete. The only effect of
    a skipped tag is that it cannot suppress a finding, which is the safe side."""
    if isinstance(items, dict):
        pairs = list(items.items())
    elif isinstance(items, list):
        pairs = [
            (t.get("key", t.get("Key")), t.get("value", t.get("Value", "")))
            for t in items
            if isinstance(t, dict)
        ]
    else:
        return ()
    return tuple(
        (k, v if isinstance(v, str) else scalar_text(v) or "") for k, v in pairs if isinstance(k, str) and k
    )


def parse_task_definition(raw: Mapping[str, JSON], loc: Loc, r: Reader) -> TaskDefinition | None:
    mark = r.mark()
    arn = r.text(raw, "taskDefinitionArn", loc)
    family = r.text(raw, "family", loc)
    revision = r.integer(raw, "revision", loc)
    arn_family, arn_rev = _family_from_arn(arn)
    family = family or arn_family
    if revision is None:
        revision = arn_rev

    defs = raw.get("containerDefinitions")
    if not isinstance(defs, list):
        if defs is None:
            r.problem(loc, "task definition has no containerDefinitions")
        else:
            r.expected(loc.child("containerDefinitions"), "a list of containers", defs)
        return None

    containers = []
    for i, cd in r.objects(defs, loc.child("containerDefinitions")):
        c = _container(cd, loc.child("containerDefinitions", i), r)
        if c is not None:
            containers.append(c)

    volumes = []
    for i, v in r.objects(r.lst(raw, "volumes", loc), loc.child("volumes")):
        vloc = loc.child("volumes", i)
        name = r.text(v, "name", vloc)
        host = r.obj(v, "host", vloc)  # a host that is not an object: the volume's kind is unknown
        source_path = r.text(host, "sourcePath", vloc.child("host")) if host else None
        if name is None:
            if v.get("name") is None:
                r.problem(vloc.child("name"), "volume has no name")
            continue
        volumes.append(Volume(name=name, host_source_path=source_path or None, loc=vloc))

    platform = r.obj(raw, "runtimePlatform", loc)
    os_family = r.text(platform, "operatingSystemFamily", loc.child("runtimePlatform")) if platform else None

    return TaskDefinition(
        family=family or "(no family)",
        revision=revision,
        arn=arn,
        loc=loc,
        containers=tuple(containers),
        volumes=tuple(volumes),
        network_mode=r.word(raw, "networkMode", loc),
        pid_mode=r.word(raw, "pidMode", loc),
        ipc_mode=r.word(raw, "ipcMode", loc),
        task_role_arn=r.text(raw, "taskRoleArn", loc) or None,
        execution_role_arn=r.text(raw, "executionRoleArn", loc) or None,
        os_family=os_family,
        requires_compatibilities=r.texts(raw, "requiresCompatibilities", loc),
        tags=parse_tags(raw["tags"]) if raw.get("tags") else (),
        problems=r.problems_since(mark, loc, task_fields),
    )


def _environment(items: list[JSON], loc: Loc, r: Reader) -> Environment:
    # Hot path: a large estate has millions of entries. Plain type checks, no helper calls.
    names: list[str] = []
    values: list[str] = []
    indexes: list[int] = []
    for i, e in enumerate(items):
        if type(e) is not dict:
            if e is not None:
                r.expected(loc.child(i), "an object with name and value", e)
            continue
        name = e.get("name")
        value = e.get("value")
        if type(name) is not str:
            name = scalar_text(name)
            if name is None:
                r.problem(loc.child(i), "environment entry has no name")
                continue
        if type(value) is not str:
            if value is None:
                value = ""
            else:
                text = scalar_text(value)
                if text is None:
                    r.expected(loc.child(i, "value"), "a string", value)
                    continue
                value = text
        names.append(name)
        values.append(value)
        indexes.append(i)
    return Environment(tuple(names), tuple(values), tuple(indexes))


def _container(cd: Mapping[str, JSON], loc: Loc, r: Reader) -> Container | None:
    name = r.text(cd, "name", loc)
    if name is None:
        if cd.get("name") is None:
            r.problem(loc.child("name"), "container has no name")
        name = f"(container {loc.parts[-1]})"

    env_raw = cd.get("environment")
    environment = NO_ENVIRONMENT
    if env_raw:
        if isinstance(env_raw, list):
            environment = _environment(env_raw, loc.child("environment"), r)
        else:
            r.expected(loc.child("environment"), "a list", env_raw)

    # absent and empty lists are the common case at scale: no location is built for them
    secrets = []
    if cd.get("secrets"):
        for i, s in r.objects(r.lst(cd, "secrets", loc), loc.child("secrets")):
            sloc = loc.child("secrets", i)
            secrets.append(SecretRef(r.text(s, "name", sloc) or "", r.text(s, "valueFrom", sloc) or "", i))

    labels_raw = r.obj(cd, "dockerLabels", loc) or {}
    labels = []
    for k, v in labels_raw.items():
        t = scalar_text(v)
        if t is not None:
            labels.append((k, t))
        elif v is not None:
            r.expected(loc.child("dockerLabels", k), "a string", v)

    mounts = []
    for i, m in (
        r.objects(r.lst(cd, "mountPoints", loc), loc.child("mountPoints")) if cd.get("mountPoints") else ()
    ):
        mloc = loc.child("mountPoints", i)
        src = r.text(m, "sourceVolume", mloc)
        if src is None:
            continue
        mounts.append(MountPoint(src, r.text(m, "containerPath", mloc) or "", r.flag(m, "readOnly", mloc), i))

    ports = []
    for i, p in (
        r.objects(r.lst(cd, "portMappings", loc), loc.child("portMappings")) if cd.get("portMappings") else ()
    ):
        ploc = loc.child("portMappings", i)
        ports.append(
            PortMapping(
                r.integer(p, "containerPort", ploc),
                r.integer(p, "hostPort", ploc),
                (r.text(p, "protocol", ploc) or "tcp").lower(),
            )
        )

    caps: tuple[str, ...] = ()
    devices = []
    linux = r.obj(cd, "linuxParameters", loc)
    if linux:
        lloc = loc.child("linuxParameters")
        capabilities = r.obj(linux, "capabilities", lloc)
        if capabilities:
            caps = tuple(c.upper() for c in r.texts(capabilities, "add", lloc.child("capabilities")))
        for i, d in r.objects(r.lst(linux, "devices", lloc), lloc.child("devices")):
            host_path = r.text(d, "hostPath", lloc.child("devices", i))
            if host_path:
                devices.append(Device(host_path, r.text(d, "containerPath", lloc.child("devices", i)), i))

    user = r.text(cd, "user", loc)
    return Container(
        name=name,
        image=r.text(cd, "image", loc),
        loc=loc,
        privileged=r.flag(cd, "privileged", loc),
        readonly_root_filesystem=r.flag(cd, "readonlyRootFilesystem", loc),
        user=user,
        environment=environment,
        secrets=tuple(secrets),
        command=r.texts(cd, "command", loc) if cd.get("command") else (),
        entry_point=r.texts(cd, "entryPoint", loc) if cd.get("entryPoint") else (),
        docker_labels=tuple(labels),
        mount_points=tuple(mounts),
        port_mappings=tuple(ports),
        capabilities_add=caps,
        devices=tuple(devices),
    )
