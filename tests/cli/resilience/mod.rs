//! What goes wrong, and what the tool does then: bad input, hostile callers, outputs that are
//! not ours, killed processes, network faults, full and read-only disks, reported defects.

mod bad_input;
mod confinement;
mod defects;
mod disks;
mod hostile;
mod reliability;
