/*
 * worker.h: what a worker process holds, and its accept loop.
 */
#ifndef WORKER_H
#define WORKER_H

#include "app.h"
#include "req.h"

/*
 * Serve requests on the listening socket fd and on the FastCGI connections
 * nginx keeps open, until told to stop (SIGTERM, or the master's death),
 * then return. The request in flight finishes; the idle kept connections
 * go to another worker of the pool through handoff (a datagram socket
 * pair the pool shares: sent on [0], received on [1]; NULL: closed).
 */
void worker_run(struct app *, int fd, const int handoff[2]);

#endif /* WORKER_H */
