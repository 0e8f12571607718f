"""Background workers for voxbook (outbox delivery, reminders, housekeeping)."""
