/// One named piece of the state_dict: a parameter (conv weight, fc weight or bias), or a BatchNorm
/// with its five tensors. Each part of the model lists its entries in the official order; the
/// state_dict, loading, the parameter list and freezing all read those lists.
enum StateEntry {
    case parameter(Parameter)
    case norm(BatchNorm2d)

    /// The learnable ones (BN weight and bias included).
    var parameters: [Parameter] {
        switch self {
        case .parameter(let p): return [p]
        case .norm(let b): return [b.weight, b.bias]
        }
    }

    /// Frozen: no gradient, no update, and a BatchNorm keeps its running statistics in training.
    func setFrozen(_ frozen: Bool) {
        for p in parameters { p.trainable = !frozen }
        if case .norm(let b) = self { b.frozen = frozen }
    }

    /// Name and value of every tensor, as torch's state_dict has them.
    var tensors: [(name: String, tensor: StateTensor)] {
        switch self {
        case .parameter(let p):
            return [(p.name, .float32(Tensor(shape: p.shape, data: p.value)))]
        case .norm(let b):
            return [(b.weight.name, .float32(Tensor(shape: [b.channels], data: b.weight.value))),
                    (b.bias.name, .float32(Tensor(shape: [b.channels], data: b.bias.value))),
                    (b.name + ".running_mean", .float32(Tensor(shape: [b.channels], data: b.runningMean))),
                    (b.name + ".running_var", .float32(Tensor(shape: [b.channels], data: b.runningVar))),
                    (b.name + ".num_batches_tracked", .int64(shape: [], values: [b.numBatchesTracked]))]
        }
    }

    /// Takes the values from `tensors`, which the caller has checked against `self.tensors`.
    func load(_ tensors: [String: StateTensor]) {
        func floats(_ name: String) -> [Float] {
            if case .float32(let t)? = tensors[name] { return t.data }
            return []
        }
        switch self {
        case .parameter(let p): p.value = floats(p.name)
        case .norm(let b):
            b.weight.value = floats(b.weight.name)
            b.bias.value = floats(b.bias.name)
            b.runningMean = floats(b.name + ".running_mean")
            b.runningVar = floats(b.name + ".running_var")
            if case .int64(_, let v)? = tensors[b.name + ".num_batches_tracked"] { b.numBatchesTracked = v.first ?? 0 }
        }
    }
}
