/*
 * The wrappers @ionic/react makes for each Ionic component (createReactComponent) and for each inline
 * overlay (createInlineOverlayComponent: ion-modal, ion-popover), not exported, copied from
 * @ionic/react 8.8.9 (dist/index.js, MIT) so that a lazy chunk can wrap a component that only it
 * uses: imported from @ionic/react, every wrapped component's code is in the first chunks.
 */
import { componentOnReady } from "@ionic/core/components";
import React, { createElement } from "react";
import { createPortal } from "react-dom";
import { jsx } from "react/jsx-runtime";

const dashToPascalCase = (str) => str
    .toLowerCase()
    .split('-')
    .map((segment) => segment.charAt(0).toUpperCase() + segment.slice(1))
    .join('');
const camelToDashCase = (str) => str.replace(/([A-Z])/g, (m) => `-${m[0].toLowerCase()}`);

const attachProps = (node, newProps, oldProps = {}) => {
    // some test frameworks don't render DOM elements, so we test here to make sure we are dealing with DOM first
    if (node instanceof Element) {
        // add any classes in className to the class list
        const className = getClassName(node.classList, newProps, oldProps);
        if (className !== '') {
            node.className = className;
        }
        Object.keys(newProps).forEach((name) => {
            if (name === 'children' ||
                name === 'style' ||
                name === 'ref' ||
                name === 'class' ||
                name === 'className' ||
                name === 'forwardedRef') {
                return;
            }
            if (name.indexOf('on') === 0 && name[2] === name[2].toUpperCase()) {
                const eventName = name.substring(2);
                const eventNameLc = eventName[0].toLowerCase() + eventName.substring(1);
                if (!isCoveredByReact(eventNameLc)) {
                    syncEvent(node, eventNameLc, newProps[name]);
                }
            }
            else {
                node[name] = newProps[name];
                const propType = typeof newProps[name];
                if (propType === 'string') {
                    node.setAttribute(camelToDashCase(name), newProps[name]);
                }
            }
        });
    }
};
const getClassName = (classList, newProps, oldProps) => {
    const newClassProp = newProps.className || newProps.class;
    const oldClassProp = oldProps.className || oldProps.class;
    // map the classes to Maps for performance
    const currentClasses = arrayToMap(classList);
    const incomingPropClasses = arrayToMap(newClassProp ? newClassProp.split(' ') : []);
    const oldPropClasses = arrayToMap(oldClassProp ? oldClassProp.split(' ') : []);
    const finalClassNames = [];
    // loop through each of the current classes on the component
    // to see if it should be a part of the classNames added
    currentClasses.forEach((currentClass) => {
        if (incomingPropClasses.has(currentClass)) {
            // add it as its already included in classnames coming in from newProps
            finalClassNames.push(currentClass);
            incomingPropClasses.delete(currentClass);
        }
        else if (!oldPropClasses.has(currentClass)) {
            // add it as it has NOT been removed by user
            finalClassNames.push(currentClass);
        }
    });
    incomingPropClasses.forEach((s) => finalClassNames.push(s));
    return finalClassNames.join(' ');
};
/**
 * Transforms a React event name to a browser event name.
 */
const transformReactEventName = (eventNameSuffix) => {
    switch (eventNameSuffix) {
        case 'doubleclick':
            return 'dblclick';
    }
    return eventNameSuffix;
};
/**
 * Checks if an event is supported in the current execution environment.
 * @license Modernizr 3.0.0pre (Custom Build) | MIT
 */
const isCoveredByReact = (eventNameSuffix) => {
    if (typeof document === 'undefined') {
        return true;
    }
    else {
        const eventName = 'on' + transformReactEventName(eventNameSuffix);
        let isSupported = eventName in document;
        if (!isSupported) {
            const element = document.createElement('div');
            element.setAttribute(eventName, 'return;');
            isSupported = typeof element[eventName] === 'function';
        }
        return isSupported;
    }
};
const syncEvent = (node, eventName, newEventHandler) => {
    const eventStore = node.__events || (node.__events = {});
    const oldEventHandler = eventStore[eventName];
    // Remove old listener so they don't double up.
    if (oldEventHandler) {
        node.removeEventListener(eventName, oldEventHandler);
    }
    // Bind new listener.
    node.addEventListener(eventName, (eventStore[eventName] = function handler(e) {
        if (newEventHandler) {
            newEventHandler.call(this, e);
        }
    }));
};
const arrayToMap = (arr) => {
    const map = new Map();
    arr.forEach((s) => map.set(s, s));
    return map;
};

const setRef = (ref, value) => {
    if (typeof ref === 'function') {
        ref(value);
    }
    else if (ref != null) {
        // Cast as a MutableRef so we can assign current
        ref.current = value;
    }
};
const mergeRefs = (...refs) => {
    return (value) => {
        refs.forEach((ref) => {
            setRef(ref, value);
        });
    };
};
const createForwardRef = (ReactComponent, displayName) => {
    const forwardRef = (props, ref) => {
        return jsx(ReactComponent, { ...props, forwardedRef: ref });
    };
    forwardRef.displayName = displayName;
    return React.forwardRef(forwardRef);
};

export const createReactComponent = (tagName, defineCustomElement) => {
    defineCustomElement();
    const displayName = dashToPascalCase(tagName);
    const ReactComponent = class extends React.Component {
        constructor(props) {
            super(props);
            this.setComponentElRef = (element) => {
                this.componentEl = element;
            };
        }
        componentDidMount() {
            this.componentDidUpdate(this.props);
        }
        componentDidUpdate(prevProps) {
            attachProps(this.componentEl, this.props, prevProps);
        }
        render() {
            // eslint-disable-next-line no-unused-vars
            const { children, forwardedRef, style, className, ref, ...cProps } = this.props;
            const propsToPass = Object.keys(cProps).reduce((acc, name) => {
                const value = cProps[name];
                if (name.indexOf('on') === 0 && name[2] === name[2].toUpperCase()) {
                    const eventName = name.substring(2).toLowerCase();
                    if (typeof document !== 'undefined' && isCoveredByReact(eventName)) {
                        acc[name] = value;
                    }
                }
                else {
                    const type = typeof value;
                    if (type === 'string' || type === 'boolean' || type === 'number') {
                        acc[camelToDashCase(name)] = value;
                    }
                }
                return acc;
            }, {});
            return createElement(tagName, { ...propsToPass, ref: mergeRefs(forwardedRef, this.setComponentElRef), style }, children);
        }
        static get displayName() {
            return displayName;
        }
    };
    return createForwardRef(ReactComponent, displayName);
};

const detachProps = (node, props) => {
    if (node instanceof Element) {
        Object.keys(props).forEach((name) => {
            if (name.indexOf('on') === 0 && name[2] === name[2].toUpperCase()) {
                const eventName = name.substring(2);
                const eventNameLc = eventName[0].toLowerCase() + eventName.substring(1);
                if (!isCoveredByReact(eventNameLc)) {
                    /**
                     * Detach custom event bindings (not built-in React events)
                     * that were added by the @stencil/react-output-target attachProps function.
                     */
                    detachEvent(node, eventNameLc);
                }
            }
        });
    }
};
const detachEvent = (node, eventName) => {
    const eventStore = node.__events || (node.__events = {});
    /**
     * If the event listener was added by attachProps, it will
     * be stored in the __events object.
     */
    const eventHandler = eventStore[eventName];
    if (eventHandler) {
        node.removeEventListener(eventName, eventHandler);
        eventStore[eventName] = undefined;
    }
};

/**
 * Set to `true` when rendering inside another inline overlay. Nested
 * overlays render at their JSX position (no portal) so that core's
 * `el.closest('ion-popover')`-style nesting detection keeps working,
 * and the outer overlay's portal already gives the subtree the correct
 * React event-delegation root.
 */
const NestedOverlayContext = React.createContext(false);
export const createInlineOverlayComponent = (tagName, defineCustomElement, hasDelegateHost) => {
    if (defineCustomElement) {
        defineCustomElement();
    }
    const displayName = dashToPascalCase(tagName);
    const ReactComponent = class extends React.Component {
        constructor(props) {
            super(props);
            this.isUnmounted = false;
            this.handleIonMount = () => {
                /**
                 * Mount the inner component when the
                 * overlay is about to open.
                 *
                 * For ion-popover, this is when `ionMount` is emitted.
                 * For other overlays, this is when `willPresent` is emitted.
                 */
                this.setState({ isOpen: true });
            };
            this.handleWillPresent = (evt) => {
                this.setState({ isOpen: true });
                /**
                 * Manually call the onWillPresent
                 * handler if present as setState will
                 * cause the event handlers to be
                 * destroyed and re-created.
                 */
                this.props.onWillPresent && this.props.onWillPresent(evt);
            };
            this.handleDidDismiss = (evt) => {
                const wrapper = this.wrapperRef.current;
                const el = this.ref.current;
                /**
                 * This component might be unmounted already, if the containing
                 * element was removed while the overlay was still open. (For
                 * example, if an item contains an inline overlay with a button
                 * that removes the item.)
                 */
                if (wrapper && el) {
                    el.append(wrapper);
                    this.setState({ isOpen: false });
                }
                this.props.onDidDismiss && this.props.onDidDismiss(evt);
            };
            // Create a local ref to to attach props to the wrapped element.
            this.ref = React.createRef();
            // React refs must be stable (not created inline).
            this.stableMergedRefs = mergeRefs(this.ref, this.props.forwardedRef);
            // Component is hidden by default
            this.state = { isOpen: false };
            // Create a local ref to the inner child element.
            this.wrapperRef = React.createRef();
            // Marker stays at the JSX location so we can recover the immediate
            // JSX parent after the overlay has been portaled to ion-app.
            this.markerRef = React.createRef();
            /**
             * Resolve the portal target to the same container CoreDelegate
             * teleports overlays into. Portaling here keeps the overlay inside
             * React's tree so React's synthetic events still dispatch to its
             * children, even after CoreDelegate moves the DOM node out of the
             * declared JSX parent.
             */
            this.portalTarget = typeof document !== 'undefined' ? document.querySelector('ion-app') || document.body : null;
        }
        componentDidMount() {
            // Reset for React 18 StrictMode: the dev-mode unmount/remount cycle
            // re-uses this instance and leaves the flag set from the prior
            // componentWillUnmount.
            this.isUnmounted = false;
            this.componentDidUpdate(this.props);
            this.ref.current?.addEventListener('ionMount', this.handleIonMount);
            this.ref.current?.addEventListener('willPresent', this.handleWillPresent);
            this.ref.current?.addEventListener('didDismiss', this.handleDidDismiss);
            /**
             * The overlay is portaled to `portalTarget`, so Stencil caches that
             * container as `cachedOriginalParent`. Modal features (sheet
             * child-route passthrough, parent-removal auto-dismiss) walk up
             * from `cachedOriginalParent` to find the enclosing `.ion-page`,
             * so we redirect it at the marker's JSX parent.
             */
            const overlay = this.ref.current;
            if (overlay) {
                componentOnReady(overlay, () => {
                    if (this.isUnmounted)
                        return;
                    const markerParent = this.markerRef.current?.parentElement ?? null;
                    if (markerParent && markerParent !== this.portalTarget) {
                        overlay.cachedOriginalParent = markerParent;
                    }
                });
            }
        }
        componentDidUpdate(prevProps) {
            const node = this.ref.current;
            /**
             * onDidDismiss and onWillPresent have manual implementations that
             * will invoke the original handler. We need to filter those out
             * so they don't get attached twice and called twice.
             */
            // eslint-disable-next-line @typescript-eslint/no-unused-vars
            const { onDidDismiss, onWillPresent, isNested, ...cProps } = this.props;
            attachProps(node, cProps, prevProps);
        }
        componentWillUnmount() {
            this.isUnmounted = true;
            const node = this.ref.current;
            /**
             * If the overlay is being unmounted, but is still
             * open, this means the unmount was triggered outside
             * of the overlay being dismissed.
             *
             * This can happen with:
             * - The parent component being unmounted
             * - The overlay being conditionally rendered
             * - A route change (push/pop/replace)
             *
             * Unmounting the overlay at this stage should skip
             * the dismiss lifecycle, including skipping the transition.
             *
             */
            if (node && this.state.isOpen) {
                /**
                 * Detach the local event listener that performs the state updates,
                 * before dismissing the overlay, to prevent the callback handlers
                 * executing after the component has been unmounted. This is to
                 * avoid memory leaks.
                 */
                node.removeEventListener('didDismiss', this.handleDidDismiss);
                if (this.props.isNested) {
                    /**
                     * Nested overlays render inline (no portal). CoreDelegate may
                     * have moved the node out of its React parent, so React's
                     * unmount won't reach it. Remove it directly.
                     */
                    node.remove();
                }
                else if (node.isConnected && this.portalTarget && node.parentNode !== this.portalTarget) {
                    /**
                     * Portaled path: move the overlay back into `portalTarget` so
                     * React's portal removeChild can find it. CoreDelegate (or user
                     * code in onWillPresent) may have moved it elsewhere while open.
                     */
                    this.portalTarget.appendChild(node);
                }
                detachProps(node, this.props);
            }
        }
        render() {
            // eslint-disable-next-line @typescript-eslint/no-unused-vars
            const { children, forwardedRef, style, className, ref, isNested, ...cProps } = this.props;
            const propsToPass = Object.keys(cProps).reduce((acc, name) => {
                if (name.indexOf('on') === 0 && name[2] === name[2].toUpperCase()) {
                    const eventName = name.substring(2).toLowerCase();
                    if (isCoveredByReact(eventName)) {
                        acc[name] = cProps[name];
                    }
                }
                else if (['string', 'boolean', 'number'].includes(typeof cProps[name])) {
                    acc[camelToDashCase(name)] = cProps[name];
                }
                return acc;
            }, {});
            const newProps = {
                ...propsToPass,
                ref: this.stableMergedRefs,
                style,
            };
            /**
             * Some overlays need `.ion-page` so content
             * takes up the full size of the parent overlay.
             */
            const getWrapperClasses = () => {
                if (hasDelegateHost) {
                    return `${DELEGATE_HOST} ion-page`;
                }
                return DELEGATE_HOST;
            };
            const overlayElement = createElement(tagName, newProps, 
            // Children, not the overlay host, observe `isNested = true`.
            createElement(NestedOverlayContext.Provider, { value: true }, 
            /**
             * We only want the inner component to be mounted if the overlay
             * is open, so conditionally render based on `isOpen` state.
             */
            this.state.isOpen || this.props.keepContentsMounted
                ? createElement('div', {
                    ref: this.wrapperRef,
                    className: getWrapperClasses(),
                }, children)
                : null));
            // Top-level overlays portal into `portalTarget` with a marker
            // `<template>` at the JSX location to recover the immediate JSX
            // parent after CoreDelegate teleports. Nested overlays and SSR
            // fall back to a `<template>` wrapper.
            if (!isNested && this.portalTarget) {
                return createElement(React.Fragment, null, createElement('template', { ref: this.markerRef }), createPortal(overlayElement, this.portalTarget));
            }
            return createElement('template', {}, overlayElement);
        }
        static get displayName() {
            return displayName;
        }
    };
    // Forward the nesting context as a prop to avoid contextType on the class.
    const ReactComponentWithNesting = (props) => createElement(NestedOverlayContext.Consumer, null, (isNested) => createElement(ReactComponent, { ...props, isNested }));
    ReactComponentWithNesting.displayName = displayName;
    return createForwardRef(ReactComponentWithNesting, displayName);
};
const DELEGATE_HOST = 'ion-delegate-host';
