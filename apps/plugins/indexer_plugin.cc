// libindexer_plugin.so: the built-in indexer app, as a plugin.
#include "apps/indexer.h"

MR_EXPORT_JOB(mr::apps::Indexer)
