/* msvc.h - the umbrella header of libmsvc: user accounts, authentication
 * and posts, over a pluggable store and a pluggable user resolver.
 * Include this, or the one header of the concern you need. */
#ifndef MSVC_H
#define MSVC_H

#include "msvc/common.h"
#include "msvc/config.h"
#include "msvc/http_resolver.h"
#include "msvc/json.h"
#include "msvc/password.h"
#include "msvc/post.h"
#include "msvc/resolver.h"
#include "msvc/service.h"
#include "msvc/store.h"
#include "msvc/token.h"
#include "msvc/user.h"

#endif /* MSVC_H */
