"""The read side: the read model (which version is latest, decoded versions), answer building,
the answer (wire) schemas, FHIR presentation."""
