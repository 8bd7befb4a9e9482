// The translation unit that builds the shared precompiled LibTorch header (see CMakeLists.txt).
