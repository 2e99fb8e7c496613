"""The inventory: what a scan knows about an estate, as frozen dataclasses.

Field names follow the AWS APIs (snake_case of ``taskRoleArn`` is ``task_role_arn``). Every
resource keeps ``loc``, the file and JSON path it was read from. A value that is ``None`` was not
set in the input; a collection that is ``None`` on a region or account was *not collected*
(traits that need it are unknown), while an empty mapping means *collected, none found*.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from .location import Loc, PositionMap
from .secret import Secret
from .suppression import SuppressionRule
from .vulns import ImageReport

# --------------------------------------------------------------------------- unreadable fields


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """A field of a resource that was present in the input but could not be read (wrong type, an
    element that is not an object …). The resource keeps it so that every trait reading the field
    is *unknown* for that resource, with this as the reason, instead of passing silently.

    ``fields`` name what the bad data would have fed, as ``Class.attribute`` of this model
    (``Container.privileged``, ``TaskDefinition.volumes``, ``Deployment.network``); a trait
    declares the same names in ``TraitSpec.reads``. ``loc`` is where the bad value is."""

    fields: tuple[str, ...]
    loc: Loc
    message: str

    def reason(self, base: Loc | None = None) -> str:
        """``containerDefinitions[0].privileged: expected a boolean, found a string``, the path
        relative to ``base`` (the resource) when it is inside it."""
        parts = self.loc.parts
        if base is not None and parts[: len(base.parts)] == base.parts:
            parts = parts[len(base.parts) :]
        where = Loc(self.loc.file, parts).path if parts else "(whole resource)"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- what the input leaves open


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A setting the input does not fix: infrastructure code whose value comes from a template
    parameter without default, a cross-stack import, an SSM parameter, a module input …

    The modelled field then holds a placeholder (a ``<…>`` text, or the API default for a flag), and
    the detectors that read ``field`` report *unknown* with ``reason`` rather than absent. ``field``
    is the API field name the detectors know (``privileged``, ``pidMode``, ``environment``,
    ``assignPublicIp``, ``ingress`` …), whatever the input language. ``sensitive``: the input declares
    the value secret (a CloudFormation ``NoEcho`` parameter, a Terraform ``sensitive`` variable, a
    Secrets Manager dynamic reference).
    """

    field: str
    reason: str
    loc: Loc
    container: str | None = None  # the container, for a container field
    key: str | None = None  # the entry, for a list of named entries (an environment variable's name)
    sensitive: bool = False


# --------------------------------------------------------------------------- task definitions


class EnvVar(NamedTuple):
    """One ``environment`` entry, made on demand by :class:`Environment`."""

    name: str
    value: Secret
    index: int  # position in the container's ``environment`` list


class Environment:
    """A container's ``environment``: names in the clear, values hidden.

    A large estate has millions of entries; holding them as two tuples per container instead of
    two objects per entry halves the parse time and memory of the scan. Values stay private:
    ``repr`` shows names and fingerprints, iteration yields :class:`EnvVar` with :class:`Secret`
    values, and only :meth:`reveal_pairs` (for the credential detector) gives the raw text.
    """

    __slots__ = ("_indexes", "_values", "names")

    def __init__(self, names: tuple[str, ...], values: tuple[str, ...], indexes: tuple[int, ...]) -> None:
        self.names = names
        self._values = values
        self._indexes = indexes

    def __len__(self) -> int:
        return len(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def __iter__(self) -> Iterator[EnvVar]:
        for name, value, index in zip(self.names, self._values, self._indexes, strict=True):
            yield EnvVar(name, Secret(value), index)

    def entry(self, position: int) -> EnvVar:
        return EnvVar(self.names[position], Secret(self._values[position]), self._indexes[position])

    def reveal_pairs(self) -> Iterator[tuple[int, str, str]]:
        """(position, name, raw value): for the credential detector only."""
        return zip(range(len(self.names)), self.names, self._values, strict=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and (self.names, self._values, self._indexes) == (
            other.names,
            other._values,
            other._indexes,
        )

    def __hash__(self) -> int:
        return hash((self.names, self._values))

    def __repr__(self) -> str:
        return "Environment(" + ", ".join(f"{e.name}={e.value!r}" for e in self) + ")"

    def __reduce__(self) -> object:
        raise TypeError("an Environment cannot be pickled: it holds credential values")


NO_ENVIRONMENT = Environment((), (), ())


@dataclass(frozen=True, slots=True)
class SecretRef:
    name: str
    value_from: str
    index: int


@dataclass(frozen=True, slots=True)
class MountPoint:
    source_volume: str
    container_path: str
    read_only: bool
    index: int


@dataclass(frozen=True, slots=True)
class PortMapping:
    container_port: int | None
    host_port: int | None
    protocol: str


@dataclass(frozen=True, slots=True)
class Device:
    host_path: str
    container_path: str | None
    index: int


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str | None
    loc: Loc
    privileged: bool = False
    readonly_root_filesystem: bool = False
    user: str | None = None
    environment: Environment = NO_ENVIRONMENT
    # free text that may hold a credential (credentials-outside-environment): kept out of repr
    secrets: tuple[SecretRef, ...] = field(default=(), repr=False)
    command: tuple[str, ...] = field(default=(), repr=False)
    entry_point: tuple[str, ...] = field(default=(), repr=False)
    docker_labels: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    mount_points: tuple[MountPoint, ...] = ()
    port_mappings: tuple[PortMapping, ...] = ()
    capabilities_add: tuple[str, ...] = ()
    devices: tuple[Device, ...] = ()


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    host_source_path: str | None  # ``host.sourcePath``; None for docker/EFS/bind-less volumes
    loc: Loc


@dataclass(frozen=True, slots=True)
class TaskDefinition:
    family: str
    revision: int | None
    arn: str | None
    loc: Loc
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...] = ()
    network_mode: str | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    os_family: str | None = None  # runtimePlatform.operatingSystemFamily
    requires_compatibilities: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # AWS tags (key, value): DescribeTaskDefinition include=TAGS
    problems: tuple[FieldProblem, ...] = ()  # unreadable fields, its containers' included
    unresolved: tuple[Unresolved, ...] = ()  # settings the input leaves open (infrastructure code)

    @property
    def label(self) -> str:
        """``family:revision`` as ECS prints it (``family`` alone for an unregistered file)."""
        return f"{self.family}:{self.revision}" if self.revision is not None else self.family

    @property
    def is_windows(self) -> bool:
        return bool(self.os_family) and self.os_family.upper().startswith("WINDOWS")

    def volume(self, name: str) -> Volume | None:
        for v in self.volumes:
            if v.name == name:
                return v
        return None


# --------------------------------------------------------------------------- services


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """``networkConfiguration.awsvpcConfiguration`` of a service or task set."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class ServiceLoadBalancer:
    target_group_arn: str | None
    load_balancer_name: str | None
    container_name: str | None
    container_port: int | None


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where a service runs a revision: the service itself, a deployment or a task set."""

    kind: str  # "service", "deployment", "taskSet"
    task_definition_arn: str
    network: NetworkConfig | None
    load_balancers: tuple[ServiceLoadBalancer, ...]
    loc: Loc
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    arn: str
    name: str
    cluster_arn: str | None
    loc: Loc
    task_definition_arn: str | None
    deployments: tuple[Deployment, ...]  # the service's own config first
    launch_type: str | None = None
    enable_execute_command: bool = False
    tags: tuple[tuple[str, str], ...] = ()  # AWS tags (key, value): DescribeServices include=TAGS
    problems: tuple[FieldProblem, ...] = ()  # unreadable fields, its deployments' and task sets' included
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def running_task_definition_arns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for d in self.deployments:
            seen.setdefault(d.task_definition_arn, None)
        return tuple(seen)


# --------------------------------------------------------------------------- EC2 / ELBv2


@dataclass(frozen=True, slots=True)
class IngressRule:
    protocol: str  # "-1" for all
    from_port: int | None
    to_port: int | None
    cidr: str | None  # IPv4 or IPv6 range; None when the source is a group or prefix list
    source_group: str | None
    loc: Loc

    @property
    def from_internet(self) -> bool:
        return self.cidr in ("0.0.0.0/0", "::/0")

    def covers(self, port: int, protocol: str = "tcp") -> bool:
        if self.protocol not in ("-1", "all") and self.protocol.lower() != protocol.lower():
            return False
        if self.protocol in ("-1", "all") or self.from_port is None or self.from_port == -1:
            return True
        hi = self.to_port if self.to_port is not None else self.from_port
        return self.from_port <= port <= hi

    @property
    def ports(self) -> str:
        if self.protocol in ("-1", "all"):
            return "all traffic"
        if self.from_port is None or self.from_port == -1:
            return f"{self.protocol} all ports"
        if self.from_port == self.to_port or self.to_port is None:
            return f"{self.protocol}/{self.from_port}"
        return f"{self.protocol}/{self.from_port}-{self.to_port}"


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    group_id: str
    group_name: str | None
    vpc_id: str | None
    ingress: tuple[IngressRule, ...]
    loc: Loc
    problems: tuple[FieldProblem, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()  # e.g. a rule whose source CIDR is a parameter


@dataclass(frozen=True, slots=True)
class Subnet:
    subnet_id: str
    vpc_id: str | None
    map_public_ip_on_launch: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class Route:
    destination: str | None  # IPv4 or IPv6 CIDR
    gateway_id: str | None
    state: str | None


@dataclass(frozen=True, slots=True)
class RouteTable:
    route_table_id: str
    vpc_id: str | None
    subnet_ids: tuple[str, ...]
    main: bool
    routes: tuple[Route, ...]
    loc: Loc
    problems: tuple[FieldProblem, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    def internet_gateway_default_route(self) -> Route | None:
        for r in self.routes:
            if (
                r.destination in ("0.0.0.0/0", "::/0")
                and r.gateway_id
                and r.gateway_id.startswith("igw-")
                and r.state != "blackhole"
            ):
                return r
        return None


@dataclass(frozen=True, slots=True)
class InternetGateway:
    gateway_id: str
    vpc_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    arn: str
    name: str | None
    scheme: str | None
    lb_type: str | None
    security_groups: tuple[str, ...]
    loc: Loc
    problems: tuple[FieldProblem, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def internet_facing(self) -> bool:
        return self.scheme == "internet-facing"


@dataclass(frozen=True, slots=True)
class Listener:
    arn: str
    load_balancer_arn: str
    port: int | None
    protocol: str | None
    loc: Loc
    target_group_arns: tuple[str, ...] = ()  # forwarded to by the default actions
    problems: tuple[FieldProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetGroup:
    arn: str
    name: str | None
    load_balancer_arns: tuple[str, ...]
    port: int | None
    protocol: str | None
    loc: Loc
    problems: tuple[FieldProblem, ...] = ()


# --------------------------------------------------------------------------- IAM


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy document with where it came from. ``statements`` keep the JSON as written."""

    name: str  # policy name or ARN
    statements: tuple[Mapping[str, object], ...]
    loc: Loc
    managed_arn: str | None = None
    # the whole document as read (any JSON value), checked against the policy grammar; None when
    # only statements are known (built-in copies of AWS managed policies)
    document: object = None


@dataclass(frozen=True, slots=True)
class Role:
    arn: str
    name: str
    loc: Loc
    attached_policy_arns: tuple[str, ...] = ()
    inline_policies: tuple[PolicyDocument, ...] = ()
    permissions_boundary_arn: str | None = None
    trust_policy: PolicyDocument | None = None  # AssumeRolePolicyDocument: who may assume the role


# --------------------------------------------------------------------------- containers of it all


@dataclass(frozen=True, slots=True)
class ScanIssue:
    """Something the scan could not read. Any issue makes the result incomplete."""

    source: str  # file path (or account/region for an AWS API error)
    path: str  # where in it, "" for the whole file
    message: str
    api: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class CollectError:
    """An entry of a snapshot's ``errors``: an API call that failed while collecting."""

    account_id: str | None
    region: str | None
    api: str
    error: str
    message: str


@dataclass(slots=True)
class RegionInventory:
    account_id: str
    region: str
    partition: str
    source: str
    services: list[Service] = field(default_factory=list)
    task_definitions: dict[str, TaskDefinition] = field(default_factory=dict)  # by ARN
    security_groups: dict[str, SecurityGroup] | None = None
    subnets: dict[str, Subnet] | None = None
    route_tables: list[RouteTable] | None = None
    internet_gateways: dict[str, InternetGateway] | None = None
    load_balancers: dict[str, LoadBalancer] | None = None
    listeners: list[Listener] | None = None
    target_groups: dict[str, TargetGroup] | None = None
    errors: list[CollectError] = field(default_factory=list)
    task_definitions_collected: bool = False
    image_reports: list[ImageReport] | None = None  # Inspector / ECR scan results; None: not collected


@dataclass(slots=True)
class AccountInventory:
    account_id: str
    partition: str
    source: str
    roles: dict[str, Role] | None = None  # by ARN; None: IAM not collected
    policies: dict[str, PolicyDocument] | None = None  # managed policies by ARN, default version
    errors: list[CollectError] = field(default_factory=list)
    regions: list[RegionInventory] = field(default_factory=list)
    _roles_by_name: dict[str, Role] | None = None

    def role(self, arn_or_name: str) -> Role | None:
        if self.roles is None:
            return None
        found = self.roles.get(arn_or_name)
        if found is not None:
            return found
        if self._roles_by_name is None:
            self._roles_by_name = {r.name: r for r in self.roles.values()}
        return self._roles_by_name.get(arn_or_name.rsplit("/", 1)[-1])


@dataclass(frozen=True, slots=True)
class TaskDefinitionFile:
    """A task definition read from a file, with no service around it."""

    task_definition: TaskDefinition
    uid: str  # the ARN when the file has one, else the file path (with a pointer for a list)


@dataclass(slots=True)
class Inventory:
    accounts: list[AccountInventory] = field(default_factory=list)
    task_definition_files: list[TaskDefinitionFile] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image_reports: list[ImageReport] = field(default_factory=list)  # from --vulns files
    vuln_sources: list[str] = field(default_factory=list)  # the files they came from
    kev: frozenset[str] = frozenset()  # CVE ids known to be exploited (--kev)
    suppressions: list[SuppressionRule] = field(default_factory=list)  # declared in the inputs themselves
    positions: dict[str, PositionMap] = field(default_factory=dict)  # file → line numbers of its values

    def merge(self, other: Inventory) -> None:
        self.accounts.extend(other.accounts)
        self.task_definition_files.extend(other.task_definition_files)
        self.issues.extend(other.issues)
        self.notes.extend(other.notes)
        self.image_reports.extend(other.image_reports)
        self.vuln_sources.extend(other.vuln_sources)
        self.kev |= other.kev
        self.suppressions.extend(other.suppressions)
        self.positions.update(other.positions)
