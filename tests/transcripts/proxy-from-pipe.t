args: --proxy-from 127.0.0.1 --proxy-from 2001:db8::/32

S: +OK pop3d ready
C: PROXY TCP4 192.0.2.1 127.0.0.1 1 110
S: -ERR unknown command
C: QUIT
S: +OK bye
