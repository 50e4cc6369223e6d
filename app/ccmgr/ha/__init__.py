"""High availability: single-writer replication over SSH, write forwarding, promotion.

The primary is the only node that changes the shared config. After each committed write it
pushes a bundle (shared keys, session secret, revocations) to every secondary over a
dedicated, pinned SSH key whose forced command is ``ccmgradm ha receive``. Secondaries
serve reads themselves and forward writes to the primary. ``(epoch, generation)`` orders
bundles: ``ccmgradm promote`` raises the epoch, and a node that sees a higher epoch than
its own follows it.
"""
