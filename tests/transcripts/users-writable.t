args: --users users-writable
mintime: 0.95
setup:
    # A users file that others may write: never used (users.h).
    printf '%s\n' 'me:$argon2id$v=19$m=8,t=1,p=1$FpU6yRwojN+hpJ6Reac/aA$pGd8JmrKnKxc1EFTuhtdyXPRRoAPpjoRB08/ffBtajc' > ../users-writable
    chmod 644 ../users-writable
    chmod o+w ../users-writable

S: +OK pop3d ready
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: -ERR [SYS/PERM] login impossible, tell the admin
C: QUIT
S: +OK bye
