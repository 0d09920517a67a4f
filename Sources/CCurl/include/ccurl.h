#ifndef FNRT_CCURL_H
#define FNRT_CCURL_H
/*
 * Typed, non-variadic wrappers around libcurl's variadic entry points, so
 * that Swift can call them. Each wrapper passes exactly one argument type.
 */
#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*ccurl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode ccurl_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback value);
/* CURLOPT_SEEKFUNCTION: lets libcurl rewind an upload to send it again. */
typedef int (*ccurl_seek_callback)(void *userdata, curl_off_t offset, int origin);
CURLcode ccurl_setopt_seek_callback(CURL *handle, ccurl_seek_callback value);

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value);

CURLSHcode ccurl_share_setopt_long(CURLSH *share, CURLSHoption option, long value);

/* libcurl's CURL_READFUNC_ABORT / CURL_WRITEFUNC_PAUSE as plain values. */
size_t ccurl_readfunc_abort(void);

#endif
