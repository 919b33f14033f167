"""The lifecycle evaluator: which images a policy expires or archives, given the images and now.

`plan(policy, images, now)` is pure and deterministic. Semantics (ECR's documented evaluation
rules; the AWS examples are tests in tests/unit/test_lifecycle_examples.py):

* Storage classes. `standard` rules see ACTIVE images, `archive` rules see ARCHIVED ones;
  everything below happens among the rules and images of one storage class.
* Selection. A rule's set S is every image of its class meeting its tagging requirements
  (`stiva.lifecycle.matching`), including images marked by earlier rules and index children:
  rules "still see" them. Referrers (below) are not in any S: a signature or an SBOM neither
  takes one of the N places `imageCountMoreThan N` keeps nor is marked by a rule.
* Count. Over the whole of S:
    imageCountMoreThan N      all but the N newest (by activity time, below)
    sinceImagePushed N        activity time more than N days before now
    sinceImagePulled N        last pull, activation or push (the latest) more than N days ago
    sinceImageTransitioned N  last_archived_at more than N days ago (never if unknown)
  "More than N days" is strict: an image pushed exactly N days ago stays (AWS's example with
  a one-day rule keeps the image pushed one day ago). Activity time is pushed_at, or
  last_activated_at for an image restored from the archive (the later of the two); for
  archive rules it is last_archived_at. Ties in time go by digest: the smaller digest counts
  as older.
* Priority. Rules apply lowest rulePriority first; a rule acts only on images whose first
  matching rule (in priority order, same storage class) it is. So an image matching a
  higher-priority rule's tagging requirements is protected from every lower rule, even when
  that rule left it alone, and no image gets two actions.
* Index children. An image listed by an index (`parents`: the live indexes listing it, as
  the caller knows them; one absent from `images` still counts as alive) is never expired
  while it has one, and is archived only once every index listing it is in `images` and
  ARCHIVED ("cannot be expired or archived without the manifest list being deleted or
  archived first"). An index expired in this plan still protects its children in this plan:
  they are free at the next run. An index archived in this plan carries along its ACTIVE
  children that no index left ACTIVE lists (TRANSITION, with the index's rule priority), as
  archiving an index does (`UpdateImageStorageClass`, and the sweep that applies the plan).
* Referrers (images with a `subject`) are never acted on by rules. They follow their subject:
  a subject expired in this plan takes its referrers with it (EXPIRE), and an ACTIVE referrer
  of a subject archived in this plan or already ARCHIVED is archived with it (TRANSITION),
  through chains of referrers, as far as the referrer's own indexes allow (above). A referrer
  whose subject is absent from `images` (deleted, or not pushed yet: OCI lets a referrer come
  first) expires once it was pushed more than a day before now (ECR: "within 24 hours after
  their subject is deleted"). The action carries the subject's rule priority or, for a
  subject that was absent or archived before this plan, the policy's lowest priority (its
  largest rulePriority).
* Output: one Action per image acted on, sorted by (rule_priority, digest).

Image digests must be unique (ValueError otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from stiva.lifecycle.matching import selection_matches
from stiva.lifecycle.policy import LifecyclePolicy, Rule, Selection, StorageClass

ImageStatus = Literal["ACTIVE", "ARCHIVED"]
ActionKind = Literal["EXPIRE", "TRANSITION"]

_STATUS_OF_CLASS: dict[StorageClass, ImageStatus] = {"standard": "ACTIVE", "archive": "ARCHIVED"}
ORPHAN_GRACE = timedelta(days=1)  # a referrer's subject may be pushed after it, within this
_MAX_DAYS = timedelta.max.days  # longer than any age a datetime can have


@dataclass(frozen=True, slots=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None
    status: ImageStatus
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    parents: tuple[str, ...] = ()  # digests of the live image indexes listing it
    subject: str | None = None  # the subject digest, for referrers (OCI 1.1 artifacts)


@dataclass(frozen=True, slots=True)
class Action:
    digest: str
    rule_priority: int
    action: ActionKind
    target_storage_class: str | None  # "ARCHIVE" for TRANSITION, None for EXPIRE


def plan(policy: LifecyclePolicy, images: Sequence[Image], now: datetime) -> list[Action]:
    """The actions `policy` takes on `images` at `now` (see the module docstring)."""
    by_digest = _by_digest(images)
    actions: dict[str, Action] = {}
    for storage_class in ("standard", "archive"):
        for action in _rule_actions(policy.rules_for(storage_class), by_digest, now):
            actions[action.digest] = action
    for action in _carried_children(by_digest, actions):
        actions[action.digest] = action
    if policy.rules:
        orphan_priority = policy.rules[-1].priority
        referrers = _Referrers(by_digest, actions, orphan_priority, now - ORPHAN_GRACE)
        for action in list(referrers.actions()):
            actions[action.digest] = action
    return sorted(actions.values(), key=lambda a: (a.rule_priority, a.digest))


def _carried_children(by_digest: Mapping[str, Image], actions: dict[str, Action]) -> list[Action]:
    """ACTIVE children archived along with indexes this plan archives (module docstring)."""
    carried: dict[str, Action] = {}

    def archiving(digest: str) -> Action | None:
        action = actions.get(digest) or carried.get(digest)
        return action if action is not None and action.action == "TRANSITION" else None

    changed = True
    while changed:  # nested indexes: a carried index carries its own children
        changed = False
        for digest in sorted(by_digest):
            image = by_digest[digest]
            if digest in actions or digest in carried or image.status != "ACTIVE":
                continue
            if not image.parents or image.subject is not None:
                continue
            parents = [by_digest.get(parent) for parent in image.parents]
            moving = [a for p in image.parents if (a := archiving(p)) is not None]
            if moving and all(
                parent is not None and (parent.status == "ARCHIVED" or archiving(parent.digest))
                for parent in parents
            ):
                priority = min(a.rule_priority for a in moving)
                carried[digest] = Action(digest, priority, "TRANSITION", "ARCHIVE")
                changed = True
    return list(carried.values())


def _by_digest(images: Sequence[Image]) -> dict[str, Image]:
    by_digest = {image.digest: image for image in images}
    if len(by_digest) != len(images):
        raise ValueError("image digests must be unique")
    return by_digest


def _rule_actions(
    rules: Sequence[Rule], by_digest: Mapping[str, Image], now: datetime
) -> Iterator[Action]:
    """The actions of `rules` (one storage class, by priority) on the images of that class."""
    if not rules:
        return
    status = _STATUS_OF_CLASS[rules[0].selection.storage_class]
    pool = sorted((i for i in by_digest.values() if i.status == status), key=lambda i: i.digest)
    owner: dict[str, int] = {}  # digest -> priority of the first rule matching its tags
    for rule in rules:
        selected = [
            i for i in pool if i.subject is None and selection_matches(rule.selection, i.tags)
        ]
        for image in selected:
            owner.setdefault(image.digest, rule.priority)
        for image in _past_threshold(rule.selection, selected, now):
            action = _action_of(rule, image.digest)
            if owner[image.digest] == rule.priority and _indexes_allow(
                image, action.action, by_digest
            ):
                yield action


def _past_threshold(selection: Selection, selected: Sequence[Image], now: datetime) -> list[Image]:
    """The images of S (`selected`) the rule's count criterion marks, counted over all of S."""
    count = selection.count_number
    if selection.count_type == "imageCountMoreThan":
        oldest_first = sorted(selected, key=lambda i: (_activity(i, selection), i.digest))
        return oldest_first[: max(0, len(oldest_first) - count)]
    limit = timedelta(days=min(count, _MAX_DAYS))
    marked = []
    for image in selected:
        since = _reference_time(image, selection)
        if since is not None and now - since > limit:
            marked.append(image)
    return marked


def _activity(image: Image, selection: Selection) -> datetime:
    """The time that orders images: push (or restore), or archival for archive rules."""
    if selection.storage_class == "archive" and image.last_archived_at is not None:
        return image.last_archived_at
    if image.last_activated_at is not None:
        return max(image.pushed_at, image.last_activated_at)
    return image.pushed_at


def _reference_time(image: Image, selection: Selection) -> datetime | None:
    """The time a since* rule measures its age from (None: never old enough)."""
    if selection.count_type == "sinceImageTransitioned":
        return image.last_archived_at
    active_since = _activity(image, selection)
    if selection.count_type == "sinceImagePulled" and image.last_pulled_at is not None:
        return max(active_since, image.last_pulled_at)
    return active_since


def _action_of(rule: Rule, digest: str) -> Action:
    if rule.action == "transition":
        return Action(digest, rule.priority, "TRANSITION", "ARCHIVE")
    return Action(digest, rule.priority, "EXPIRE", None)


def _indexes_allow(image: Image, kind: ActionKind, by_digest: Mapping[str, Image]) -> bool:
    """Whether the indexes listing `image` (as they stand before this plan) allow `kind`."""
    if not image.parents:
        return True
    if kind == "EXPIRE":
        return False
    parents = [by_digest.get(digest) for digest in image.parents]
    return all(parent is not None and parent.status == "ARCHIVED" for parent in parents)


_Fate = Literal["GONE", "ARCHIVED", "ACTIVE"]


class _Referrers:
    """The actions referrers take from their subjects' fates (module docstring, Referrers)."""

    def __init__(
        self,
        by_digest: Mapping[str, Image],
        rule_actions: Mapping[str, Action],
        orphan: int,
        orphaned_before: datetime,
    ) -> None:
        self._images = by_digest
        self._rule_actions = rule_actions
        self._orphan = orphan
        self._orphaned_before = orphaned_before  # orphans pushed before this expire
        self._decided: dict[str, Action | None] = {}
        self._deciding: set[str] = set()

    def actions(self) -> Iterator[Action]:
        for digest in sorted(self._images):
            if self._images[digest].subject is not None:
                action = self._action(self._images[digest])
                if action is not None:
                    yield action

    def _action(self, referrer: Image) -> Action | None:
        if referrer.digest in self._decided:
            return self._decided[referrer.digest]
        if referrer.digest in self._deciding:  # a cycle of subjects: leave it alone
            return None
        self._deciding.add(referrer.digest)
        assert referrer.subject is not None
        fate, priority = self._fate(referrer.subject)
        if priority is None:
            priority = self._orphan
        action = None
        if fate == "GONE" and (
            referrer.subject in self._images or referrer.pushed_at < self._orphaned_before
        ):
            action = Action(referrer.digest, priority, "EXPIRE", None)
        elif fate == "ARCHIVED" and referrer.status == "ACTIVE":
            action = Action(referrer.digest, priority, "TRANSITION", "ARCHIVE")
        if action is not None and not _indexes_allow(referrer, action.action, self._images):
            action = None
        self._deciding.discard(referrer.digest)
        self._decided[referrer.digest] = action
        return action

    def _fate(self, digest: str) -> tuple[_Fate, int | None]:
        """What becomes of image `digest` in this plan, and the priority of the rule doing it."""
        image = self._images.get(digest)
        if image is None:
            return "GONE", None
        action = self._rule_actions.get(digest)
        if action is None and image.subject is not None:
            action = self._action(image)
        if action is not None and action.action == "EXPIRE":
            return "GONE", action.rule_priority
        if action is not None:
            return "ARCHIVED", action.rule_priority
        return ("ARCHIVED" if image.status == "ARCHIVED" else "ACTIVE"), None
