"""What runs write and show: run records (seed, parameters, versions), atomic JSON/npz writes and
progress bars."""
