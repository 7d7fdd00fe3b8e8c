//! The experiment bench: run a workload under the limits it will be deployed with.
//!
//! [`run()`] is the whole API for one run: it creates a transient cgroup beneath the cgroup
//! boxwise runs in ([`cgroup`]), starts the command inside it before it execs (optionally in
//! new namespaces, [`ns`]), forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT ([`signals`]),
//! waits, reads the cgroup's counters into [`RunStats`] and removes the cgroup, whatever
//! happened.
//! [`spec`] and [`stats`] are pure; the rest is the thin edge that touches the machine.

pub mod cgroup;
pub mod change;
pub mod error;
pub mod gomaxprocs;
pub mod gomaxprocs_run;
pub mod neighbour;
pub mod neighbour_run;
pub mod ns;
pub mod quota;
pub mod run;
pub mod signals;
pub mod spec;
pub mod stats;

pub use change::{AppliedChange, Change};
pub use error::{Error, Result};
pub use gomaxprocs::{Point as GomaxprocsPoint, Timeline as GomaxprocsTimeline};
pub use neighbour::Neighbour;
pub use run::{run, run_controlled};
pub use spec::{IoLimit, Isolation, Limits, MemorySwap, Namespace, RunSpec};
pub use stats::{AppliedLimits, NeighbourStats, RunStats};
