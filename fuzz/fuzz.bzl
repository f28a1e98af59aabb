"""ikeless_fuzz_target: one libFuzzer target, built three ways (BUILD.bazel)."""

def ikeless_fuzz_target(name, srcs, deps, testonly = False):
    """Defines NAME_lib, NAME (the fuzzer) and NAME_test (its seed corpus once).

    Args:
      name: the fuzzer's name; its seeds live in corpus/NAME/.
      srcs: the file defining LLVMFuzzerTestOneInput.
      deps: the code under test.
      testonly: the target uses testonly helpers.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = testonly,
        srcs = srcs,
        deps = deps + [":quiet_logs"],
        alwayslink = True,
    )

    # With --config=fuzz: a libFuzzer binary (libFuzzer brings main()).
    # Otherwise the same binary with corpus_main: it replays the files and
    # directories named on its command line (a crash file, a corpus).
    native.cc_binary(
        name = name,
        testonly = testonly,
        deps = [":" + name + "_lib"] + select({
            ":libfuzzer": [],
            "//conditions:default": [":corpus_main"],
        }),
        linkopts = select({
            ":libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )

    # Every build, gcc included: the seed corpus through the target once.
    native.cc_test(
        name = name + "_test",
        size = "small",
        srcs = [],
        args = ["fuzz/corpus/" + name],
        data = native.glob(["corpus/" + name + "/**"]),
        deps = [
            ":" + name + "_lib",
            ":corpus_main",
        ],
    )
