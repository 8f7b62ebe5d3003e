/* framing.h - strict HTTP/1 message framing (RFC 9112 §6.1-6.3).
 *
 * h2o 2.2.5 chooses a request's body framing itself and is lenient: with
 * both Content-Length and Transfer-Encoding it reads chunked, with several
 * Content-Length headers it takes the first, it accepts Transfer-Encoding
 * on HTTP/1.0, and it never hands either header to the handler.  A proxy
 * in front that frames the same bytes differently would let a request be
 * smuggled behind ours.  msvc_framing_check reads the request's header
 * block again, as it arrived, and names what is ambiguous; the caller
 * answers 400 and closes the connection, so that nothing pipelined behind
 * such a request is ever read.
 */
#ifndef MSVC_SERVER_FRAMING_H
#define MSVC_SERVER_FRAMING_H

#include <h2o.h>

/* NULL when req's framing is unambiguous (or req is not HTTP/1), else why
 * it is refused, a static string fit for the 400's message. */
const char *msvc_framing_check(h2o_req_t *req);

#endif
