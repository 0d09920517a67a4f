#ifndef FNRT_CARCHIVE_H
#define FNRT_CARCHIVE_H
/* libarchive, with its file-type macros (casts Swift cannot import) as constants. */
#include <archive.h>
#include <archive_entry.h>
/* For writing entries' extended attributes, which Glibc's Swift module leaves out. */
#include <sys/xattr.h>

static const unsigned int CARCHIVE_AE_IFREG = AE_IFREG;
static const unsigned int CARCHIVE_AE_IFDIR = AE_IFDIR;
static const unsigned int CARCHIVE_AE_IFLNK = AE_IFLNK;
static const unsigned int CARCHIVE_AE_IFCHR = AE_IFCHR;
static const unsigned int CARCHIVE_AE_IFBLK = AE_IFBLK;
static const unsigned int CARCHIVE_AE_IFIFO = AE_IFIFO;
static const unsigned int CARCHIVE_AE_IFSOCK = AE_IFSOCK;

#endif
