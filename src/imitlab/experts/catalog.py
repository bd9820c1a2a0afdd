"""The catalogue behind ``imitlab zoo list``: each registered task with its shipped experts.

Facts come from where they are recorded: the task registry (random and expert returns,
:data:`imitlab.tasks.TASKS`), each expert file (the command that made it, and its critic, if any)
and :data:`imitlab.tasks.ZOO_RECORDS` (returns and training times the files do not hold).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from imitlab.envs.classic import BATCHED_ENVS
from imitlab.experts import zoo_files, zoo_spec
from imitlab.policies import load_policy
from imitlab.tasks import TASKS, ZOO_RECORDS, MeasuredOn


def _q_star(meta: dict[str, Any], env_id: str) -> str:
    if meta.get("kind") == "QPolicy":
        return "yes: Q-network (DQN)"
    if "critic" in meta:
        return "yes: twin critic (SAC)"
    if env_id in BATCHED_ENVS:
        return "no (Monte-Carlo Q* from restored states)"
    return "no"


def zoo_entries() -> list[dict[str, Any]]:
    """One row per shipped expert file (or per registered task that has none), tasks in registry order."""
    envs = list(TASKS) + sorted({p.name.split(".")[0] for p in zoo_files()} - set(TASKS))
    rows: list[dict[str, Any]] = []
    for env_id in envs:
        task = TASKS.get(env_id)
        base = {
            "env": env_id,
            "random_return": None if task is None else task.random_return,
            "random_std": None if task is None else task.random_std,
        }
        files = zoo_files(env_id)
        if not files:
            rows.append({**base, "file": None, "expert": None, "expert_return": None, "expert_std": None,
                         "command": None, "train_seconds": None, "wall_seconds": None, "q_star": None,
                         "measured_on": None})
            continue
        for path in files:
            meta = load_policy(path)[1]
            extra = meta.get("extra", {})
            record = ZOO_RECORDS.get(path.name)
            default = zoo_spec(path) == "zoo"
            ret, std = (record.mean_return, record.std_return) if record else (None, None)
            if ret is None and default and task is not None:
                ret, std = task.expert_return, task.expert_std
            rows.append({
                **base,
                "file": path.name,
                "expert": zoo_spec(path),
                "expert_return": ret,
                "expert_std": std,
                "command": extra.get("command"),
                "train_seconds": extra.get("train_seconds", record.train_seconds if record else None),
                "wall_seconds": record.wall_seconds if record else None,
                "q_star": _q_star(meta, env_id),
                "measured_on": asdict(record.measured_on) if record else None,
            })
    return rows


def _pm(mean: float | None, std: float | None) -> str:
    return "-" if mean is None else f"{mean:.2f} ± {std:.2f}"


def _time(row: dict[str, Any]) -> str:
    if row["train_seconds"] is None:
        return "-"
    wall = f" ({row['wall_seconds']:.1f} s wall)" if row["wall_seconds"] is not None else ""
    return f"{row['train_seconds']:.1f} s{wall}"


def _measured_on(m: dict[str, str] | None) -> str:
    if m is None:
        return "not recorded"
    return MeasuredOn(**m).describe()


def format_zoo_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of :func:`zoo_entries`, the commands listed below it by row number."""
    cols = ["env", "expert file (--expert)", "expert return", "random return", "train time", "Q*"]
    cells = [[r["env"], "none shipped" if r["file"] is None else f"{r['file']} ({r['expert']})",
              _pm(r["expert_return"], r["expert_std"]), _pm(r["random_return"], r["random_std"]), _time(r),
              r["q_star"] or "-"] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]

    def fmt(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    lines = [fmt(cols), fmt(["-" * w for w in widths])] + [fmt(c) for c in cells]
    lines += ["", "made by:"] + [f"  {r['file']}: {r['command'] or 'not recorded'}" for r in rows if r["file"]]
    lines += ["", "expert return measured on (Box2D and MuJoCo replay exactly only there; elsewhere within the spread):"]
    lines += [f"  {r['file']}: {_measured_on(r['measured_on'])}" for r in rows if r["file"]]
    return "\n".join(lines)
