// libnoexport_plugin.so: loads, but exports no mr_create_job; tests use it
// to check that the engine refuses such a plugin.
extern "C" __attribute__((visibility("default"))) int mr_noexport_plugin_marker() {
  return 42;
}
