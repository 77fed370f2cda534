"""What a trial records: the ``agent_trial`` fixture's object, token usage from every provider and framework
(by hand or from OpenTelemetry spans), and its estimated cost."""
