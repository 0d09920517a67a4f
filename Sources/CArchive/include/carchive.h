#ifndef FNRT_CARCHIVE_H
#define FNRT_CARCHIVE_H
#include <archive.h>
#include <archive_entry.h>
#endif
