"""Scoring's timers: the daily engagement decay and model training on the worker."""

from pipewise.events import bus
from pipewise.scoring import service, training

TABLE = bus.HandlerTable(
    timers={
        service.DECAY_ACTION: bus.ActionKind(service.run_decay),
        training.TRAIN_ACTION: bus.ActionKind(training.run_training),
    }
)
