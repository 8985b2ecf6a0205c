"""Plain state of the fake ECS Image Builder: image templates (`ip-…`) and their builds
(`exec-…`).

A build walks PREPARING → REPAIRING → BUILDING → (TESTING) → (DISTRIBUTING) → RELEASING →
SUCCESS on the emulated clock, one phase after another, each lasting its entry of
`phase_seconds`.
TESTING only runs with TestContent, DISTRIBUTING only with ToRegionId or AddAccount.
A scripted failure stops the walk in a chosen phase with FAILED (ErrorCode/ErrorInfo) or, in
TESTING, TEST_FAILED (the image exists). A cancel turns a build into CANCELLING, then CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PREPARING, REPAIRING, BUILDING, TESTING = "PREPARING", "REPAIRING", "BUILDING", "TESTING"
DISTRIBUTING, RELEASING, SUCCESS = "DISTRIBUTING", "RELEASING", "SUCCESS"
FAILED, TEST_FAILED, CANCELLING, CANCELLED = "FAILED", "TEST_FAILED", "CANCELLING", "CANCELLED"
PARTITION_SUCCESS = "PARTITION_SUCCESS"
FINAL = frozenset({SUCCESS, PARTITION_SUCCESS, FAILED, TEST_FAILED, CANCELLED})
CANCELLABLE = frozenset({PREPARING, REPAIRING, BUILDING})
ALL_STATUSES = (PREPARING, REPAIRING, BUILDING, TESTING, DISTRIBUTING, RELEASING, CANCELLING,
                SUCCESS, PARTITION_SUCCESS, TEST_FAILED, FAILED, CANCELLED)

DEFAULT_PHASE_SECONDS: dict[str, float] = {
    PREPARING: 120.0, REPAIRING: 300.0, BUILDING: 240.0, TESTING: 180.0, DISTRIBUTING: 120.0,
    RELEASING: 60.0, CANCELLING: 60.0,
}
MESSAGES = {
    PREPARING: "Create transition vpc and instance success!",
    REPAIRING: "Repairing the base image on the intermediate instance.",
    BUILDING: "Creating image from the intermediate instance.",
    TESTING: "Running the test commands on a test instance.",
    DISTRIBUTING: "Copying and sharing the image.",
    RELEASING: "Releasing the intermediate instance.",
    SUCCESS: "Execution success!",
    CANCELLING: "Cancelling the execution.",
    CANCELLED: "Execution cancelled.",
}


@dataclass
class FakePipeline:
    pipeline_id: str
    region: str
    created_at: float
    base_image_type: str
    base_image: str
    name: str
    description: str = ""
    image_name: str = ""             # ImageOptions.ImageName (a prefix)
    image_family: str = ""
    image_description: str = ""
    image_tags: list[tuple[str, str]] = field(default_factory=list)
    nvme_support: str = ""
    repair_mode: str = ""
    repair_items: list[str] = field(default_factory=list)
    instance_type: str = ""
    vswitch_id: str = ""
    system_disk_size: int = 40
    internet_max_bandwidth_out: int = 0
    delete_instance_on_failure: bool = True
    build_content: str = ""
    test_content: str = ""
    to_regions: list[str] = field(default_factory=list)
    add_accounts: list[str] = field(default_factory=list)
    name_suffix: bool = True         # False with AdvancedOptions.ImageNameSuffix=disable
    retain_cloud_assistant: bool = False
    resource_group_id: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ScriptedFailure:
    phase: str                        # the phase in which the build stops
    code: str
    info: str


@dataclass
class FakeExecution:
    execution_id: str
    pipeline_id: str
    region: str
    created_at: float
    phases: list[str]                 # the phases this build walks, in order
    phase_seconds: dict[str, float]
    status: str = PREPARING
    phase_started_at: float = 0.0
    modified_at: float = 0.0
    image_id: str = ""
    error_code: str = ""
    error_info: str = ""
    failure: ScriptedFailure | None = None
    hung: bool = False                # stays in its phase forever (deadline tests)
    tags: list[tuple[str, str]] = field(default_factory=list)
    instance_started_at: float | None = None   # the intermediate instance bills from here …
    instance_released_at: float | None = None  # … to here

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def message(self) -> str:
        if self.status in (FAILED, TEST_FAILED):
            return f"Execution failed: {self.error_info or self.error_code}"
        return MESSAGES.get(self.status, "")
