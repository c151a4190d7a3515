"""Operations: backups and restores, alerts, readiness checks, zero-downtime deploys, uptime."""

EMAIL_SUBJECTS = {
    "alert": "DigitalDock alert",
}
