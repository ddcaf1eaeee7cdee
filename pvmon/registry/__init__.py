"""The fleet registry: townships, villages, stations, inverters, people, certificates, tariffs."""
