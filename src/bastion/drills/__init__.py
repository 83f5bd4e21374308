"""War games: scenarios as data, replayed through the production detectors, scored on time.

``scenario``/``library`` load and validate the scenario YAML files, ``exercise`` the exercise file,
``replay`` feeds a time-shifted baseline plus the attack telemetry through the detectors,
``scoring`` turns injections, alerts and the blue team's actions into a scoreboard, ``tune``
suggests the nearest threshold change for each miss, ``report`` writes HTML, JSON and Markdown.
"""
