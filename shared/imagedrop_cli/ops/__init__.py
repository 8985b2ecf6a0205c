"""What producers and operators run: push, status, watch, cancel, replay and doctor.

The CLI (`imagedrop_cli.ops_cmds`) is glue over these modules: decisions are pure functions
(`exit_codes`, `push_preflight`, `replay_plan`, `doctor_checks`), I/O sits in small adapters
(`connection`, `uploader`, `imports`, `fc_invoke`, `doctor_probes`).
"""
