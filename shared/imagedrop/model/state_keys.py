"""Every key the pipeline writes, in one place (docs/architecture.md#the-state-the-pipeline-keeps).

All of them live under the state prefix (`imagedrop/` by default), which the trigger does not
watch: a write under the watched prefix would start the function again, forever.

| key                                   | how            | what for                                     |
|---------------------------------------|----------------|----------------------------------------------|
| status/<manifest key>                 | overwrite      | the status record people and the CLI read    |
| status-by-hash/<sha256 of the key>    | overwrite      | the same, for a key too long for `status/`   |
| claims/<import id>                    | put-if-absent  | what the poller needs of an import (`ImportClaim`) |
| states/<import id>/<state>            | put-if-absent  | the right to save and announce a state, once |
| terminal/<import id>                  | put-if-absent  | one end per import, whichever it is          |
| polls/<import id>/<stage>-<attempt>   | put-if-absent  | a redelivered track message is a no-op       |
| waiting/<data disk key>               | overwrite      | which manifest a late data disk completes    |
| cancels/<manifest key>@<version>      | overwrite      | a cancel of this upload of the manifest      |
| disk-owners/<sha256 of the disk key>  | put-if-absent  | which manifest a data disk belongs to        |
| cancel/<import id>                    | put-if-absent  | a cancel left for the step working on it     |
| work/<import id>                      | put-if-absent  | one instance at a time follows or ends it    |
| submitted/<import id>                 | put-if-absent  | ImportImage was called (its answer maybe lost) |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

OSS_MAX_KEY_BYTES = 1023

# The one key people write beside their uploads: `K.json.cancel` (or `K.cancel`) cancels the
# import of `K.json`.
CANCEL_SUFFIX = ".cancel"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StateKeys:
    prefix: str

    def status(self, manifest_key: str) -> str:
        key = f"{self.prefix}status/{manifest_key}"
        if len(key.encode("utf-8")) <= OSS_MAX_KEY_BYTES:
            return key
        return f"{self.prefix}status-by-hash/{_digest(manifest_key)}"

    def claim(self, import_id: str) -> str:
        return f"{self.prefix}claims/{import_id}"

    def state(self, import_id: str, state: str, *, terminal: bool) -> str:
        """The marker that lets one instance save and announce `state`; every end shares one."""
        if terminal:
            return self.terminal(import_id)
        return f"{self.prefix}states/{import_id}/{state}"

    def terminal(self, import_id: str) -> str:
        return f"{self.prefix}terminal/{import_id}"

    def poll(self, import_id: str, stage: str, attempt: int) -> str:
        return f"{self.prefix}polls/{import_id}/{stage}-{attempt}"

    def waiting(self, data_disk_key: str) -> str:
        return f"{self.prefix}waiting/{data_disk_key}"

    def cancel(self, manifest_key: str, version: str) -> str:
        return f"{self.prefix}cancels/{manifest_key}@{version}"

    def disk_owner(self, disk_key: str) -> str:
        return f"{self.prefix}disk-owners/{_digest(disk_key)}"

    def repair_cancel(self, import_id: str) -> str:
        """A cancel left for the instance working on the import (the poller alone may end a
        build): it ends the import, or answers why it is too late."""
        return f"{self.prefix}cancel/{import_id}"

    def submitted(self, import_id: str) -> str:
        """Left right before ImportImage: a task may exist that no record names yet."""
        return f"{self.prefix}submitted/{import_id}"

    def work(self, import_id: str) -> str:
        """The lease of the instance following or ending the import now."""
        return f"{self.prefix}work/{import_id}"
