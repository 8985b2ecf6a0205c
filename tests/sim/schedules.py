"""The schedules the simulation runs: random ones drawn from a seed, and the named ones, each a
case that once went wrong, scripted at the port call where it went wrong."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from imagedrop.flows.ingest import ingest_object

from imagedrop.flows import cancel as cancels
from imagedrop.state.status_book import StatusBook

from tests.flows.fakes import BUCKET, sample_disk
from .invariants import broken
from .world import STATE_PREFIX, Faults, World

DISK = "incoming/web.qcow2"
MANIFEST = DISK + ".json"
NAME = "web-2026-11"
FOREIGN_DISK = "incoming/other/web.qcow2"
FOREIGN_NAME = "someone-else"
_DISK_BYTES = sample_disk()


@dataclass
class Outcome:
    seed: int
    name: str
    problems: list[str]
    world: World
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.world.bucket.objects[f"imagedrop/status/{MANIFEST}"].data)

    def announced(self) -> list[str]:
        seen: dict[str, str] = {}
        for event in self.world.mns.published:
            if event["subject"] == MANIFEST:
                seen.setdefault(event["id"], event["type"].rsplit(".", 1)[-1])
        return list(seen.values())

    def report(self) -> str:
        return (f"schedule {self.name} (seed {self.seed}) broke: {self.problems}\n"
                f"  options {self.options}\n  announced {self.announced()}\n"
                f"  replay: pytest tests/sim --seed {self.seed}")


def manifest_body(**fields: Any) -> str:
    body: dict[str, Any] = {"image_name": NAME, "os_type": "linux", "platform": "Ubuntu",
                            "architecture": "x86_64", "boot_mode": "BIOS", "image_check": True}
    body.update(fields)
    return json.dumps(body)


def _neighbours(world: World) -> None:
    """Another manifest's objects and somebody's image beside the import: never to be touched."""
    world.upload(FOREIGN_DISK, _DISK_BYTES, event=False)
    world.upload(FOREIGN_DISK + ".json", manifest_body(image_name=FOREIGN_NAME), event=False)
    world.foreign_keys |= {FOREIGN_DISK, FOREIGN_DISK + ".json"}
    world.foreign_images.add(world.ecs.add_foreign_image(FOREIGN_NAME))


def random_options(rng: random.Random) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if rng.random() < 0.5:
        options["repair"] = ["fstab"]
        options["keep_unrepaired"] = rng.random() < 0.5
    if rng.random() < 0.4:
        options["share_with_accounts"] = ["1234567890123457"]
    if rng.random() < 0.5:
        options["delete_source_on_success"] = True
    return options


def random_schedule(seed: int) -> Outcome:
    """Two or three instances at once, redelivered and reordered events, throttling and lost
    answers, maybe a cancel: all drawn from `seed`."""
    rng = random.Random(seed)
    budget = rng.choice((0, 1, 2, 3))
    world = World(seed, rng, faults=Faults(throttle=0.03, lost=0.03, budget=budget),
                  instances_at_once=rng.choice((2, 3)), twins=rng.choice((0.0, 0.2, 0.5)),
                  again=rng.choice((0.0, 0.2)), task_seconds=rng.choice((60.0, 300.0, 900.0)),
                  build_seconds=rng.choice((300.0, 1500.0)),
                  build_outcome=rng.choice(("SUCCESS", "SUCCESS", "FAILED")))
    world.scheduler.switch = rng.choice((0.05, 0.15, 0.3))
    options = random_options(rng)
    _neighbours(world)
    uploads = [(DISK, _DISK_BYTES), (MANIFEST, manifest_body(**options))]
    rng.shuffle(uploads)
    for key, data in uploads:
        world.upload(key, data)
    if rng.random() < 0.35:
        options["cancel_after"] = when = rng.choice((0.0, 30.0, 90.0, 200.0, 700.0, 1500.0))
        world.at(when, "cancel", lambda: world.upload(MANIFEST + ".cancel", b""))
    world.run()
    return Outcome(seed, "random", broken(world, MANIFEST, [DISK, MANIFEST]), world, options)


# ---------------------------------------------------------------- named schedules


def _once(world: World, when: Callable[[str, str, tuple[Any, ...]], bool],
          then: Callable[[], None]) -> None:
    """Run `then` (quietly, between two calls) right before the first call `when` matches."""
    def hook(service: str, op: str, args: tuple[Any, ...]) -> None:
        if when(service, op, args):
            world.hooks.remove(hook)
            world.scheduler.quietly(then)
    world.hooks.append(hook)


def _in_poll(world: World) -> bool:
    current = world.scheduler.current
    return current is not None and current.name.startswith("poll")


def _cancel_now(world: World) -> Callable[[], None]:
    """The cancel's upload and its ingest, handled by another instance in one go."""
    return lambda: world.outcomes.append(
        ("cancel", ingest_object(world.upload(MANIFEST + ".cancel", b"", event=False),
                                 world.services)))


def _named(name: str, options: dict[str, Any], script: Callable[[World], None], *,
           seed: int = 1) -> Outcome:
    world = World(seed, random.Random(seed), instances_at_once=1, twins=0.0, again=0.0)
    world.scheduler.switch = 0.0
    _neighbours(world)
    world.upload(DISK, _DISK_BYTES)
    world.upload(MANIFEST, manifest_body(**options))
    script(world)
    world.run()
    return Outcome(seed, name, broken(world, MANIFEST, [DISK, MANIFEST]), world, options)


def cancel_while_a_poll_is_in_flight(repair: bool = False) -> Outcome:
    """The poller has loaded `checking` (it asks ECS about the task) when the cancel lands."""
    options: dict[str, Any] = {"share_with_accounts": ["1234567890123457"],
                               "delete_source_on_success": True}
    if repair:
        options["repair"] = "auto"
        options["repair"] = ["fstab"]

    def script(world: World) -> None:
        world.ecs.task_seconds = 0.0
        _once(world, lambda s, op, a: op == "describe_task" and _in_poll(world), _cancel_now(world))
    return _named("cancel while a poll is in flight" + (" (repair)" if repair else ""), options,
                  script)


def cancel_while_finishing() -> Outcome:
    """The cancel lands when the poller has claimed `finishing`: too late, and said so."""
    options = {"share_with_accounts": ["1234567890123457"], "delete_source_on_success": True}

    def script(world: World) -> None:
        world.ecs.task_seconds = 0.0
        _once(world, lambda s, op, a: op == "put_if_absent" and "/states/" in str(a[0])
              and str(a[0]).endswith("/finishing"), _cancel_now(world))
    return _named("cancel while finishing", options, script)


def name_taken_between_the_renames(keep_unrepaired: bool = False) -> Outcome:
    """Another image takes the manifest's name once the original has moved out of its way."""
    def script(world: World) -> None:
        world.ecs.task_seconds = 0.0

        def take_the_name() -> None:
            world.foreign_images.add(world.ecs.add_foreign_image(NAME))
        _once(world, lambda s, op, a: op == "modify_image" and a[1].get("ImageName") == NAME,
              take_the_name)
    return _named("name taken between the renames",
                  {"repair": ["fstab"], "keep_unrepaired": keep_unrepaired}, script)


def temporary_name_taken() -> Outcome:
    """The name the original moves to is somebody else's image's already."""
    def script(world: World) -> None:
        from imagedrop.decide.repair_track import unrepaired_name
        world.ecs.task_seconds = 0.0

        def take_it() -> None:
            record = json.loads(world.bucket.objects[f"imagedrop/status/{MANIFEST}"].data)
            world.foreign_images.add(world.ecs.add_foreign_image(unrepaired_name(NAME, record["id"])))
        _once(world, lambda s, op, a: op == "describe_image_pipeline_execution", take_it)
    return _named("temporary name taken", {"repair": ["fstab"], "keep_unrepaired": True}, script)


def cancel_after_the_build_succeeded(before_the_look: bool = False) -> Outcome:
    """The cancel lands once the build has made its image, before the poller sees it: as the
    poller asks ECS, or (`before_the_look`) right before it looks for a cancel."""
    def script(world: World) -> None:
        world.ecs.task_seconds = 0.0

        def when(service: str, op: str, args: tuple[Any, ...]) -> bool:
            asks = (op == "head" and "/cancel/" in str(args[0])) if before_the_look \
                else op == "describe_image_pipeline_execution"
            return asks and world.clock.now >= min((b.ends_at for b in world.ecs.builds.values()),
                                                   default=float("inf"))
        _once(world, when, _cancel_now(world))
    return _named("cancel after the build succeeded" + (", before the look" if before_the_look
                                                       else ""), {"repair": ["fstab"]}, script)


def cancel_inside_the_swap() -> Outcome:
    def script(world: World) -> None:
        world.ecs.task_seconds = 0.0
        _once(world, lambda s, op, a: op == "modify_image" and "ImageName" in a[1],
              _cancel_now(world))
    return _named("cancel inside the swap", {"repair": ["fstab"]}, script)


def end_while_a_state_is_saved() -> Outcome:
    """The ingest has claimed `importing` and found no end, when a cancel lands and the manifest's
    other delivery (paused since it claimed the import, before ImportImage) finds it and ends the
    import: the end must still be announced last, and stay the record."""
    def script(world: World) -> None:
        def when(service: str, op: str, args: tuple[Any, ...]) -> bool:
            return (op == "put" and str(args[0]).endswith("status/" + MANIFEST)
                    and json.loads(args[1]).get("state") == "importing")

        def cancel_and_resume_the_other() -> None:
            cancelled = ingest_object(world.upload(MANIFEST + ".cancel", b"", event=False),
                                      world.services)
            book = StatusBook(world.services, BUCKET)
            [claim] = [k for k in world.bucket.objects if k.startswith(f"{STATE_PREFIX}claims/")]
            rid = claim.rsplit("/", 1)[-1]
            version = world.bucket.head(MANIFEST).version
            assert cancels.requested(book, MANIFEST, version)
            cancels.end_before_import(book, rid, MANIFEST, {rid})
            world.outcomes.append(("cancel", cancelled))
        _once(world, when, cancel_and_resume_the_other)
    return _named("an end while a state is saved", {}, script)


NAMED: dict[str, Callable[[], Outcome]] = {
    "an end while a state is saved": end_while_a_state_is_saved,
    "cancel while a poll is in flight": cancel_while_a_poll_is_in_flight,
    "cancel while a poll is in flight (repair)": lambda: cancel_while_a_poll_is_in_flight(True),
    "cancel while finishing": cancel_while_finishing,
    "name taken between the renames": name_taken_between_the_renames,
    "name taken between the renames (keep unrepaired)":
        lambda: name_taken_between_the_renames(True),
    "temporary name taken": temporary_name_taken,
    "cancel after the build succeeded": cancel_after_the_build_succeeded,
    "cancel after the build succeeded, before the look":
        lambda: cancel_after_the_build_succeeded(True),
    "cancel inside the swap": cancel_inside_the_swap,
}
