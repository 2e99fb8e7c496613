from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-data-destruction"

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Data destruction",
    phrase="a task role that can destroy data",
    contextual=False,
    description=(
        "The task role can destroy data stores: delete every bucket (`s3:DeleteBucket` on every "
        "resource), overwrite or delete objects together with `kms:ScheduleKeyDeletion` (ransom), "
        "or delete databases, tables, file systems and backups (`rds:DeleteDBInstance`, "
        "`dynamodb:DeleteTable`, `backup:DeleteRecoveryPoint` …)."
    ),
    remediation="Remove delete actions from the task role, or scope them to the resources it owns.",
    detect=impact_detect(
        ID,
        [
            [Need(("s3:DeleteBucket",), broad=True)],
            [Need(("s3:DeleteObject", "s3:PutObject"), broad=True), Need(("kms:ScheduleKeyDeletion",))],
            [
                Need(
                    (
                        "rds:DeleteDBInstance",
                        "rds:DeleteDBCluster",
                        "dynamodb:DeleteTable",
                        "efs:DeleteFileSystem",
                        "backup:DeleteRecoveryPoint",
                        "backup:DeleteBackupVault",
                    )
                )
            ],
        ],
    ),
    reads=ROLE_FIELDS,
)
