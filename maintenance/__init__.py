"""Work orders (工单): opened from alerts or by hand, worked by a certified maintainer,
verified by the data (DESIGN §7 "Maintenance"). ``maintenance.actions`` is the public
module the API and the CLI act through."""
