"""The money as it is really settled and received, and how each village uses it: the grid
company's settlement statements and the receipts of grid payments and subsidy, reconciled
with the telemetry estimate; receivables and their age; a village's month moving from
estimated to settled to closed, corrections as adjustments; income uses by the rules'
categories; and the disclosure sheets, published and archived unchanged (DESIGN §7)."""
