from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-disable-audit"
ACTIONS = (
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "guardduty:DeleteDetector",
    "guardduty:UpdateDetector",
    "guardduty:DisassociateFromMasterAccount",
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "securityhub:DisableSecurityHub",
    "access-analyzer:DeleteAnalyzer",
    "logs:DeleteLogGroup",
)

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Can disable auditing",
    phrase="a task role that can disable auditing",
    contextual=False,
    description=(
        "The task role can stop or delete the account's audit trail and detectors "
        "(`cloudtrail:StopLogging`, `cloudtrail:DeleteTrail`, `guardduty:DeleteDetector`, "
        "`config:StopConfigurationRecorder` …): an intruder erases its tracks."
    ),
    remediation="Remove these actions from the task role; protect audit services with an SCP.",
    detect=impact_detect(ID, [[Need(ACTIONS)]]),
    reads=ROLE_FIELDS,
)
