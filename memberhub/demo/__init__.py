"""`memberhub demo`: a fresh database with a year of believable history, written through use cases.

Members come and go the way real ones do (see `people`): a few buy often, most rarely, many
stop. Counter and shop sales are reported by their tills at closing time; orders, bills,
mail, subscriptions, prepaid cards and redemptions go through their own use cases, on a
simulated clock (`common.clock.simulated_time`) so every timestamp is the history's. The
five festival campaigns run in their seasons with a holdout group (see `seasons`), and
treated members respond to them. The scheduled jobs run every simulated week (the tier
review monthly). One `random.Random(seed)` drives every choice: the same seed and end
date give the same history, with only generated secrets, member, order and card numbers,
pickup codes and record ids differing.

Cost grows with members x days: about 7 ms of CPU per member-year on SQLite, so the
default 20,000 members take under three minutes and a year for a million about two and
a quarter hours.
"""

from memberhub.demo.run import DemoLedgerBreach, DemoRefused, run_demo

__all__ = ["DemoLedgerBreach", "DemoRefused", "run_demo"]
