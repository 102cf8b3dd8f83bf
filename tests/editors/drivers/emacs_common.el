;;; emacs_common.el --- helpers for the batch Emacs drivers of tests/editors  -*- lexical-binding: t; -*-
;; Load paths for Debian's elpa packages, waiting, picking in a completing-read menu, the result file.

(require 'cl-lib)
(require 'json)
(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)

(defvar t/result nil "Alist written to $GDM_TEST_RESULT.")
(defvar t/steps nil)
(defvar t/shown nil "Messages the user saw.")

(defun t/put (key value) (setf (alist-get key t/result) value))

(defun t/wait (what pred &optional seconds)
  "Process events until PRED holds (or fail naming WHAT)."
  (let ((deadline (+ (float-time) (or seconds 30))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall pred) (error "timed out waiting for %s" what))
    (push what t/steps)))

(defun t/goto (regexp)
  (goto-char (point-min))
  (unless (re-search-forward regexp nil t) (error "no line matches %s" regexp))
  (beginning-of-line))

(defun t/goto-line (line0)
  (goto-char (point-min))
  (forward-line line0))

(defun t/pick (wanted fn)
  "Call FN with `completing-read' answering the first candidate containing WANTED, as a user picks."
  (cl-letf (((symbol-function 'completing-read)
             (lambda (_prompt collection &rest _)
               (let* ((titles (mapcar (lambda (c) (if (consp c) (car c) c)) collection))
                      (hit (cl-find-if (lambda (title) (string-match-p (regexp-quote wanted) title)) titles)))
                 (t/put 'offered titles)
                 (or hit (error "no menu item %s among %S" wanted titles))))))
    (let ((last-nonmenu-event 13)) ; a key, not a mouse click: a menu in the minibuffer
      (funcall fn))))

(defun t/text () (buffer-substring-no-properties (point-min) (point-max)))

(defun t/finish (ok)
  (t/put 'steps (reverse t/steps))
  (t/put 'shown t/shown)
  (with-temp-file (getenv "GDM_TEST_RESULT") (insert (json-encode t/result)))
  (kill-emacs (if ok 0 1)))

(defun t/run (main)
  "Run MAIN, record an error, write the result, exit."
  (let ((ok (condition-case err (progn (funcall main) t)
              (error (t/put 'error (error-message-string err)) nil))))
    (ignore-errors (t/put 'final (t/text)))
    (t/finish ok)))

(defun t/settings ()
  "gdm's settings from the test, as a plist."
  (let ((json-object-type 'plist) (json-key-type 'keyword))
    (json-read-from-string (getenv "GDM_TEST_SETTINGS"))))

(defun t/server-command ()
  (append (json-read-from-string (getenv "GDM_TEST_SERVER")) nil))

(defun t/use-gdm ()
  "Put the shipped editors/emacs on the load path, pointed at the test's server and settings."
  (add-to-list 'load-path (expand-file-name "editors/emacs" (getenv "GDM_TEST_REPO")))
  (setq gdm-server-command (t/server-command)
        gdm-settings (t/settings)))

(provide 'emacs_common)
