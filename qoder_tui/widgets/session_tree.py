"""The tree pane: sessions newest first, and inside each its threads as a tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..api.models import Session, parse_ts
from ..render.summary import age_words, compact_count
from ..store import SessionStore, ThreadInfo

BADGES: dict[str, tuple[str, str]] = {
    "running": ("●", "success"),
    "idle": ("○", "muted"),
    "rescheduling": ("↻", "warning"),
    "rescheduled": ("↻", "warning"),
    "terminated": ("■", "muted"),
    "deleted": ("■", "muted"),
    "errored": ("✖", "error"),
    "waiting": ("⏸", "warning"),
}

STATUS_WORDS = {
    "waiting": "waiting for approval",
    "rescheduling": "rescheduled",
    "errored": "errored",
}


@dataclass(frozen=True)
class NodeRef:
    """What a tree node stands for."""

    kind: str  # "session" | "thread" | "more" | "info"
    session_id: str = ""
    thread_id: str | None = None


def age(ts: str | None, now: datetime) -> str:
    return age_words(parse_ts(ts), now)


class SessionTree(Tree[NodeRef]):
    """Sessions and threads.  Selecting a node posts `Open`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=False),
    ]

    class Open(Message):
        def __init__(self, ref: NodeRef) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # A Text, not a str: a str label is read as markup, and that loads rich's emoji
        # table (4 ms of every launch) for a root that is never shown.
        super().__init__(Text("sessions"), id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 3
        self.session_nodes: dict[str, TreeNode[NodeRef]] = {}
        self.thread_nodes: dict[tuple[str, str], TreeNode[NodeRef]] = {}
        self.more_node: TreeNode[NodeRef] | None = None
        self.last_listed: TreeNode[NodeRef] | None = None
        """The node of the last session the server's list has named so far."""
        self.info_nodes: list[TreeNode[NodeRef]] = []
        """Lines that are not sessions ("No sessions yet.")."""
        self.colours: dict[str, str] = {
            "success": "green",
            "muted": "grey50",
            "warning": "yellow",
            "error": "red",
            "accent": "cyan",
        }
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # ------------------------------------------------------------------ labels

    def _badge(self, status: str) -> Text:
        symbol, colour = BADGES.get(status, ("?", "muted"))
        return Text(symbol, style=self.colours.get(colour, colour))

    def session_label(
        self, session: Session, status: str, last_event_at: datetime | None = None
    ) -> Text:
        """Badge, age (of its last event when known, else of the session), title."""
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append_text(self._badge(status))
        when = (
            age_words(last_event_at, self.clock())
            if last_event_at
            else age(session.created_at, self.clock())
        )
        label.append(f" {when:>3} ", style=self.colours["muted"])
        label.append(session.display_title)
        return label

    def thread_label(self, info: ThreadInfo) -> Text:
        """Badge, name, state and for how long, failed calls, tokens and credits reported."""
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append_text(self._badge(info.status))
        label.append(" ")
        label.append(info.name, style="bold" if info.thread.is_primary else "")
        word = STATUS_WORDS.get(info.status, info.status)
        since = age_words(info.since, self.clock()) if info.since else ""
        label.append(f"  {word}{' ' + since if since else ''}", style=self.colours["muted"])
        failed = len(info.failed_calls)
        if failed:
            more = "+" if info.failures_counted is False else ""  # (its history not all read)
            label.append(f" · {failed}{more} failed", style=self.colours["error"])
        tokens = info.usage.total_tokens
        if tokens:
            label.append(f" · {compact_count(tokens)} tok", style=self.colours["muted"])
        if info.usage.credits:
            label.append(f" · {info.usage.credits:.2f} cr", style=self.colours["muted"])
        return label

    # ------------------------------------------------------------------ building

    def add_sessions(
        self, sessions: list[tuple[Session, str]], *, has_more: bool, fresh: bool = False
    ) -> None:
        """A page of the list, in the server's order.  `fresh`: its first page read again:
        sessions not in the tree yet go in above the ones it already had (the newest on top;
        the cursor stays on its node, as a Tree's does when lines are added)."""
        if self.more_node is not None:
            self.more_node.remove()
            self.more_node = None
        if sessions:
            for info in self.info_nodes:
                info.remove()  # "No sessions yet." or an error said before
            self.info_nodes = []
        bottom = self.last_listed
        if fresh:
            self.last_listed = None
        # In the server's order, whatever came first: a session opened at launch is in
        # the tree before its page of the list arrives, and the list flows around it.
        for session, status in sessions:
            node = self.session_nodes.get(session.id)
            if node is None:
                label = self.session_label(session, status)
                data = NodeRef("session", session.id)
                if self.last_listed is not None:
                    node = self.root.add(label, data, after=self.last_listed)
                elif self.root.children:
                    node = self.root.add(label, data, before=0)
                else:
                    node = self.root.add(label, data)
                self.session_nodes[session.id] = node
            self.last_listed = node
        if fresh and bottom is not None:
            self.last_listed = bottom  # later pages of the list still go at the bottom
        if has_more:
            self.more_node = self.root.add_leaf(
                Text("… more sessions", style=self.colours["accent"]), data=NodeRef("more")
            )
        if self.cursor_line < 0 and self.session_nodes:
            # Nothing chosen yet: the cursor starts on the newest session, so that Enter
            # opens it (with no cursor, the first ↓ only placed one).
            self.cursor_line = 0

    def set_session_message(self, text: str) -> None:
        """A line in an empty tree (no sessions, or an error)."""
        if any(str(node.label) == text for node in self.info_nodes):
            return
        self.info_nodes.append(
            self.root.add_leaf(Text(text, style=self.colours["muted"]), data=NodeRef("info"))
        )

    def sync_session(self, store: SessionStore) -> None:
        """Add or relabel the session's thread nodes (the cursor stays on its node)."""
        node = self.session_nodes.get(store.id)
        if node is None:
            node = self.root.add(
                self.session_label(store.session, store.status), data=NodeRef("session", store.id)
            )
            self.session_nodes[store.id] = node
        self._relabel(node, self.session_label(store.session, store.status, store.last_event_at))

        placed: set[str] = set()

        def place(parent: TreeNode[NodeRef], parent_id: str | None) -> None:
            # Iterative in spirit: each thread is placed once, so a thread that is its
            # own parent, or a cycle a→b→a, cannot recurse (the server's data, not ours).
            for info in store.children_of(parent_id):
                if info.id in placed:
                    continue
                placed.add(info.id)
                key = (store.id, info.id)
                child = self.thread_nodes.get(key)
                label = self.thread_label(info)
                if child is None:
                    child = parent.add(
                        label, data=NodeRef("thread", store.id, info.id), expand=True
                    )
                    self.thread_nodes[key] = child
                else:
                    self._relabel(child, label)
                has_children = bool(store.children_of(info.id))
                if has_children and not child.allow_expand:
                    child.allow_expand = True
                    child.expand()  # a coordinator's first child: show it
                elif not has_children and child.allow_expand:
                    child.allow_expand = False  # (only when it changes: each set redraws the tree)
                place(child, info.id)

        place(node, None)
        # Threads whose parent is unknown still get shown, under the session.
        for info in store.threads.values():
            if info.id in placed:
                continue
            placed.add(info.id)
            key = (store.id, info.id)
            if key not in self.thread_nodes:
                self.thread_nodes[key] = node.add(
                    self.thread_label(info), data=NodeRef("thread", store.id, info.id), expand=True
                )
            else:
                self._relabel(self.thread_nodes[key], self.thread_label(info))
            place(self.thread_nodes[key], info.id)
        if not node.is_expanded:
            node.expand()  # each expand() lays the whole tree out again: only when it changes

    def relabel_sessions(
        self,
        sessions: dict[str, Session],
        status_of: Callable[[Session], str],
        last_event_of: Callable[[str], datetime | None],
    ) -> None:
        """Refresh ages and statuses."""
        for sid, node in self.session_nodes.items():
            session = sessions.get(sid)
            if session is not None:
                label = self.session_label(session, status_of(session), last_event_of(sid))
                self._relabel(node, label)

    @staticmethod
    def _relabel(node: TreeNode[NodeRef], label: Text) -> None:
        """Set a label only when it changed: every set_label repaints the tree."""
        current = node.label
        if (
            isinstance(current, Text)
            and current.plain == label.plain
            and current.spans == label.spans
        ):
            return
        node.set_label(label)

    def node_for(self, session_id: str, thread_id: str | None) -> TreeNode[NodeRef] | None:
        if thread_id is None:
            return self.session_nodes.get(session_id)
        return self.thread_nodes.get((session_id, thread_id))

    def reveal(self, session_id: str, thread_id: str | None) -> None:
        node = self.node_for(session_id, thread_id)
        if node is None:
            return
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.move_cursor(node)

    # ------------------------------------------------------------------ events

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        event.stop()
        ref = event.node.data
        if ref is not None and ref.kind != "info":
            self.post_message(self.Open(ref))
