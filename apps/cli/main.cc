// The suanli binary: the CLI of cli_main.cc.
#include "common.h"

int main(int argc, char** argv) { return suanli::cli::Main(argc, argv, nullptr); }
