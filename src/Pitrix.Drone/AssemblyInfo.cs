using System.Runtime.Versioning;

// The drone runs on the nodes Pitrix deploys, which are Unix machines: it sets Unix file modes, creates symbolic
// links and kills process trees, and has no Windows equivalent to fall back to.
[assembly: UnsupportedOSPlatform("windows")]
