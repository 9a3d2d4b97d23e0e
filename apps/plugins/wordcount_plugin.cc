// libwordcount_plugin.so: the built-in wordcount app, as a plugin.
#include "apps/wordcount.h"

MR_EXPORT_JOB(mr::apps::WordCount)
