"""``Loc`` conventions for infrastructure code.

A location's parts are the path *in the template* (``Resources/TaskDef/Properties/
ContainerDefinitions/0/Environment/3``), so that evidence, SARIF results and patches point at the
text the user wrote. Detectors do not know the input language: they add ECS API field names
(``c.loc.child("environment", 3)``). A language's :class:`TemplateLoc` subclass spells each added
name as its templates do (CloudFormation: ``Environment``; a Terraform resource attribute:
``network_mode``), leaving user keys (Docker label names, log options) as they are.
"""

from __future__ import annotations

from ...model import Loc
from ...model.location import Part


class TemplateLoc(Loc):
    """A location in infrastructure code. Subclasses override :meth:`spell`."""

    __slots__ = ()

    def spell(self, parents: tuple[Part, ...], key: str) -> str:
        """The template's name for the API field ``key`` added below ``parents``."""
        return key

    def child(self, *parts: Part) -> Loc:
        out = self.parts
        for p in parts:
            if isinstance(p, str):
                p = self.spell(out, p)
            out = (*out, p)
        return type(self)(self.file, out)


# maps whose keys are the user's, not API field names: never respelled
USER_MAPS = frozenset({"DockerLabels", "Options", "Labels", "DriverOpts", "SecretOptions", "Tags"})


class PascalLoc(TemplateLoc):
    """CloudFormation: the ECS, EC2, ELB and IAM properties are the API names in PascalCase
    (``containerDefinitions`` → ``ContainerDefinitions``, ``assignPublicIp`` → ``AssignPublicIp``)."""

    __slots__ = ()

    def spell(self, parents: tuple[Part, ...], key: str) -> str:
        if parents and parents[-1] in USER_MAPS:
            return key
        return key[:1].upper() + key[1:]


class ListLoc(TemplateLoc):
    """A bare container-definition list (``--container-definitions file://…``, Terraform's
    ``container_definitions``): container ``i`` is at ``/i``, not ``/containerDefinitions/i``."""

    __slots__ = ()

    def spell(self, parents: tuple[Part, ...], key: str) -> str:
        return key

    def child(self, *parts: Part) -> Loc:
        if not self.parts and parts and parts[0] == "containerDefinitions":
            return ListLoc(self.file, tuple(parts[1:]))
        return super().child(*parts)


class ObjectLoc(TemplateLoc):
    """One container definition alone in a file: container 0 is the document itself."""

    __slots__ = ()

    def child(self, *parts: Part) -> Loc:
        if not self.parts and parts and parts[0] == "containerDefinitions":
            return ObjectLoc(self.file, tuple(parts[2:]))
        return super().child(*parts)
