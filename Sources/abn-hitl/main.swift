import ArgumentParser
import Foundation
import HITL

/// The one executable. Each subcommand is a small struct in Commands/; errors become one line on
/// stderr and exit status 1 (see CommandSupport.swift).
struct ABNHITL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abn-hitl",
        abstract: "Correct why an Attention Branch Network decides: train, collect its mistakes, edit attention maps in a terminal, fine-tune.",
        discussion: """
        Workflow: synth (or bring an ImageFolder dataset) → train → eval → collect → review (or import-maps) \
        → finetune → eval → export. Run `abn-hitl demo` to see the whole cycle on a built-in dataset.
        """,
        subcommands: [Synth.self, Train.self, Eval.self, Collect.self, Review.self, ImportMaps.self, Finetune.self,
                      Export.self, Explain.self, Bench.self, Demo.self])
}

// libgomp reads OMP_WAIT_POLICY once, when it loads (before any of this runs), and its default spins
// idle threads for a while: with another CPU-bound process on the machine that cost training 300 →
// 71 img/s (docs/benchmarks.md). So unless the user chose a policy, run again with PASSIVE set.
if getenv("OMP_WAIT_POLICY") == nil {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)  // returns only on failure: then carry on as we are
}

// A session another process is writing to is waited for; say so rather than seem to hang.
Session.lockNotice = { note($0) }
ABNHITL.main()
