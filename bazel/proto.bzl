"""Turns .proto files into C++ message and gRPC stub libraries with
Debian's protoc and grpc_cpp_plugin (Bazel's own proto rules would download
protobuf)."""

def ikeless_proto_library(name, srcs, deps = [], grpc = False, visibility = None):
    """cc_library `name` with the generated code of `srcs`.

    Args:
      name: the cc_library's name.
      srcs: .proto files of this package; imports are workspace-relative.
      deps: other ikeless_proto_library targets whose protos `srcs` import.
      grpc: also generate gRPC service stubs.
      visibility: of the cc_library.
    """
    bases = [s[:-len(".proto")] for s in srcs]
    outs = [b + ".pb.h" for b in bases] + [b + ".pb.cc" for b in bases]
    if grpc:
        outs += [b + ".grpc.pb.h" for b in bases] + [b + ".grpc.pb.cc" for b in bases]
    dep_srcs = [d + "_srcs" for d in deps]
    cmd = "/usr/bin/protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=$(GENDIR) "
    cmd += " ".join(["$(location %s)" % s for s in srcs])
    native.filegroup(name = name + "_srcs", srcs = srcs + dep_srcs)
    native.genrule(
        name = name + "_gen",
        srcs = srcs + dep_srcs,
        outs = outs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
