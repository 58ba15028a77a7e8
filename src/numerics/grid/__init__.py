"""Flows on grids: periodic tori, a pole-free S² and complex tori; compiled fields and energies;
RK4 and diffrax time stepping; the Gaussian non-local smearing (2.30); the ``flow run`` presets."""
