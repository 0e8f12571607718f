"""voxbook: booking backend for voice-AI receptionists."""
