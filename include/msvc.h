/* msvc.h - the umbrella header of libmsvc: user accounts, authentication
 * and posts, over a pluggable store and a pluggable user resolver.
 *
 * Include this, or the one header of the concern you need.  The optional
 * modules have headers of their own, installed with them: msvc/mongo.h
 * (libmsvc-mongo) and msvc/http_resolver.h (libmsvc-http). */
#ifndef MSVC_H
#define MSVC_H

#include "msvc/common.h"
#include "msvc/errors.h"
#include "msvc/password.h"
#include "msvc/post.h"
#include "msvc/resolver.h"
#include "msvc/service.h"
#include "msvc/session.h"
#include "msvc/store.h"
#include "msvc/user.h"

#endif /* MSVC_H */
