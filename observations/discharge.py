"""What rounds settle when a stay ends: the observer's watch ends, so they are free for another
1:1 (observations.services.observers.watch_end_at_discharge)."""

from facility.registry import DischargeStep, register_discharge_step
from observations.services.observers import watch_end_at_discharge

register_discharge_step(DischargeStep(key="observations", run=watch_end_at_discharge, order=20))
