// Hugging Face config.json → ModelArch.
#pragma once

#include <string>

#include "catalog/raw_node.h"
#include "suanli/model/model.h"

namespace suanli {

// Reads a config tree (from a config.json or a catalog model's `config:`).
// `key_prefix` is prepended to key paths in diagnostics ("config").
Result<ModelArch> ImportHfConfig(const RawNode& config, const std::string& key_prefix);

}  // namespace suanli
