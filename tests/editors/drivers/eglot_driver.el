;;; eglot_driver.el --- batch Emacs + eglot through gdm's flow with editors/emacs/gdm-eglot.el  -*- lexical-binding: t; -*-
;; A `gdm:' comment's code action, accept by code action (eglot has no lenses), M-x gdm-ask,
;; reject by code action; records the buffer, the mode-line segment and the messages.

(load (expand-file-name "emacs_common.el" (file-name-directory load-file-name)))
(t/use-gdm)
(require 'gdm-eglot)
(setq eglot-confirm-server-initiated-edits nil)
(advice-add 'eglot--message :before (lambda (fmt &rest args) (push (apply #'format fmt args) t/shown)))

(defun t/done-count ()
  (cl-count "done" (hash-table-values gdm--tasks) :test #'equal))

(defun t/main ()
  (find-file (expand-file-name "calc.py" (getenv "GDM_TEST_WORKSPACE")))
  (apply #'eglot (eglot--guess-contact)) ; eglot-ensure waits for a command loop that batch Emacs never runs
  (t/wait "eglot connected" (lambda () (eglot-current-server)))
  (t/wait "session open (first gdm/costUpdate)" (lambda () gdm--cost))
  ;; Ask through the `gdm:' comment's code action.
  (t/goto "# gdm: EDTEST")
  (t/pick "gdm: EDTEST guard divide" (lambda () (eglot-code-actions (point) (point) nil t)))
  (t/wait "comment task done" (lambda () (= (t/done-count) 1)))
  (t/wait "patch of the comment" (lambda () (= (length (gdm-pending)) 1)))
  (let* ((patch (car (gdm-pending)))
         (hunk (aref (plist-get patch :hunks) 0)))
    ;; Accept by code action on the hunk's first line.
    (t/goto-line (plist-get (plist-get (plist-get hunk :range) :start) :line))
    (t/pick "gdm: Accept this change" (lambda () (eglot-code-actions (point) (point) nil t)))
    (t/wait "accepted" (lambda () (equal (plist-get (gethash (plist-get patch :patchId) gdm--patches) :status)
                                         "accepted"))))
  (t/put 'after_accept (t/text))
  ;; Ask with a prompt, reject by code action.
  (t/goto "Return a \\+ b")
  ;; "Ask gdm…" code action; its prompt typed in the minibuffer.
  (cl-letf (((symbol-function 'read-string)
             (lambda (prompt &rest _) (t/put 'input_prompt prompt) "EDTEST document add")))
    (t/pick "Ask gdm" (lambda () (eglot-code-actions (point) (point) nil t))))
  (t/wait "prompt task done" (lambda () (= (t/done-count) 2)))
  (t/wait "patch of the prompt" (lambda () (= (length (gdm-pending)) 1)))
  (let* ((patch (car (gdm-pending)))
         (hunk (aref (plist-get patch :hunks) 0)))
    (t/goto-line (plist-get (plist-get (plist-get hunk :range) :start) :line))
    (t/pick "gdm: Reject this change" (lambda () (eglot-code-actions (point) (point) nil t)))
    (t/wait "rejected" (lambda () (equal (plist-get (gethash (plist-get patch :patchId) gdm--patches) :status)
                                         "rejected"))))
  (t/put 'after_reject (t/text))
  ;; A shell command needs approval. eglot 1.9 declares no `window' capabilities, so gdm never asks
  ;; it (window/showMessageRequest) and denies: the safe default. Were it asked, the user would pick
  ;; "Allow once" in completing-read.
  (t/pick "Allow once" (lambda ()
                         (gdm-ask "EDTEST approve shell")
                         (t/wait "approved task over"
                                 (lambda () (= (cl-count-if (lambda (s) (member s '("done" "error")))
                                                            (hash-table-values gdm--tasks))
                                               3)))))
  (t/put 'task_statuses (hash-table-values gdm--tasks))
  (t/wait "task cost" (lambda () (> (or (plist-get gdm--cost :taskUsd) 0) 0)))
  (t/put 'task_usd (plist-get gdm--cost :taskUsd))
  ;; format-mode-line is "" without a frame (batch): evaluate the installed segment itself.
  (let ((segment (car (member '(:eval (gdm-mode-line)) mode-line-misc-info))))
    (t/put 'mode_line (if segment (eval (cadr segment) t) "segment not in mode-line-misc-info"))))

(t/run #'t/main)
