"""An OA app's custom gate: ≥ 90 % of a branch's current employees attended a study session.

``oa_gate.guards`` registers the fact type, the host-reading guard (zh_CN/en messages, a
recipe) and the roster classes; ``oa_gate.workflow`` builds the district workflow with it.
"""
