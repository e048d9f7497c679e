"""The shell that runs jobs over the ports: read once, call the pure core, write once (PACE
sync, the PRODA bookings batch, the bulk claims check at scale). Nothing in the core imports
this package."""
